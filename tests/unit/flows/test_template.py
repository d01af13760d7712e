import pytest
from pydantic import BaseModel

from plait.flows.template import (
    Reference,
    Template,
    TemplateSyntaxError,
    dig,
    references,
    render,
    render_config,
    templates_in,
)


def test_references_are_found_in_order_with_json_paths() -> None:
    text = "A {{ trigger.product }} on {{scene.text}} at {{ data.json.price.0 }}"
    assert references(text) == [
        Reference("trigger", "product"),
        Reference("scene", "text"),
        Reference("data", "json", ("price", "0")),
    ]


def test_text_without_braces_has_no_references() -> None:
    assert references("plain { text } here") == []


@pytest.mark.parametrize(
    "text",
    [
        "{{ __import__('os').system('id') }}",
        "{{ trigger }}",
        "{{ trigger.prompt | upper }}",
        "{{ 1 + 1 }}",
        "{{ trigger.prompt",
    ],
)
def test_anything_but_a_reference_is_a_syntax_error(text: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        references(text)


def test_render_substitutes_and_formats_values() -> None:
    values = {("t", "name"): "Ada", ("t", "n"): 3, ("t", "ok"): True, ("t", "obj"): {"a": [1, 2]}}

    def lookup(ref: Reference) -> object:
        return dig(values[(ref.node, ref.port)], ref.path)

    out = render("{{t.name}} {{ t.n }} {{t.ok}} {{t.obj}} {{t.obj.a.1}} {{t.obj.missing}}", lookup)
    assert out == 'Ada 3 true {"a": [1, 2]} 2 '


def test_render_never_evaluates_substituted_values() -> None:
    out = render("{{ t.x }}", lambda ref: "{{ t.x }} {{ 7*7 }}")
    assert out == "{{ t.x }} {{ 7*7 }}"


def test_dig_handles_missing_steps() -> None:
    assert dig({"a": [10, 20]}, ("a", "1")) == 20
    assert dig({"a": [10, 20]}, ("a", "5")) is None
    assert dig("text", ("a",)) is None


class Inner(BaseModel):
    text: Template
    plain: str = "{{ not.a_template }}"


class Outer(BaseModel):
    title: Template
    items: list[Inner]
    count: int = 1


def test_templates_in_walks_nested_models_and_render_config_copies() -> None:
    config = Outer(title=Template("{{ a.b }}!"), items=[Inner(text=Template("x {{ c.d }}"))])
    assert [path for path, _ in templates_in(config)] == ["title", "items[0].text"]
    rendered = render_config(config, lambda ref: ref.node.upper())
    assert rendered.title == "A!"
    assert rendered.items[0].text == "x C"
    assert rendered.items[0].plain == "{{ not.a_template }}"
    assert config.title == "{{ a.b }}!"  # the original is untouched


def test_template_json_schema_is_marked() -> None:
    assert Outer.model_json_schema()["properties"]["title"] == {
        "type": "string",
        "format": "template",
        "title": "Title",
    }
