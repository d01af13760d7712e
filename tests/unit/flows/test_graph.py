from plait.flows.graph import find_cycle, topological_order


def test_acyclic_graph_has_no_cycle_and_orders_dependencies_first() -> None:
    graph = {"c": {"a", "b"}, "a": set(), "b": {"a"}, "d": set()}
    assert find_cycle(graph) == []
    order = topological_order(graph)
    assert sorted(order) == ["a", "b", "c", "d"]
    assert order.index("a") < order.index("b") < order.index("c")


def test_cycle_is_reported_as_its_members() -> None:
    graph = {"a": {"c"}, "b": {"a"}, "c": {"b"}, "x": set()}
    assert sorted(find_cycle(graph)) == ["a", "b", "c"]


def test_self_loop_is_a_cycle() -> None:
    assert find_cycle({"a": {"a"}}) == ["a"]


def test_long_chain_does_not_recurse_too_deep() -> None:
    graph = {f"n{i}": ({f"n{i - 1}"} if i else set()) for i in range(5000)}
    assert find_cycle(graph) == []
    assert topological_order(graph)[:3] == ["n0", "n1", "n2"]
