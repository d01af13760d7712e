from pathlib import Path

import pytest

from plait.errors import FlowFileError, FlowInvalid
from plait.flows.loader import load_flow, parse_flow
from tests.helpers import EXAMPLES


def test_loads_an_example() -> None:
    f = load_flow(EXAMPLES / "product-shot.json")
    assert [n.id for n in f.nodes] == ["trigger", "image", "thumb", "respond"]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FlowFileError, match=r"flow file not found: .*nope\.json"):
        load_flow(tmp_path / "nope.json")


def test_folder_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(FlowFileError, match="is a folder"):
        load_flow(tmp_path)


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(FlowFileError, match=r"not valid JSON: .* at line 2, column 14"):
        parse_flow('{"nodes": [\n  {"id": "a",, "type": "text"}]}')


def test_not_an_object() -> None:
    with pytest.raises(FlowFileError, match="must be a JSON object"):
        parse_flow("[1, 2]")


def test_unsupported_format_version() -> None:
    with pytest.raises(FlowInvalid, match="unsupported format 7"):
        parse_flow('{"format": 7, "nodes": []}')


def test_shape_errors_name_the_node() -> None:
    with pytest.raises(FlowInvalid) as info:
        parse_flow('{"nodes": [{"id": "ok", "type": "text", "colour": 1}]}')
    problem = info.value.problems[0]
    assert problem.node_id == "ok"
    assert "nodes.0.colour" in str(problem)
