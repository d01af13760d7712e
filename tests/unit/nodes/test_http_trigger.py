import pytest

from plait.errors import InputError
from plait.media.image_ref import ImageRef
from plait.nodes.http_trigger import HttpTriggerConfig, coerce_inputs

CONFIG = HttpTriggerConfig.model_validate(
    {
        "fields": [
            {"name": "prompt"},
            {"name": "count", "type": "number", "required": False, "default": 2},
            {"name": "hd", "type": "boolean", "required": False},
            {"name": "meta", "type": "json", "required": False},
            {"name": "photo", "type": "image", "required": False},
        ]
    }
)
REF = ImageRef("0" * 64, "image/png", 1, 1, 10)


def test_strings_are_converted_to_each_type() -> None:
    values = coerce_inputs(
        CONFIG, {"prompt": "hi", "count": "3", "hd": "yes", "meta": '{"a": 1}', "photo": REF}
    )
    assert values == {"prompt": "hi", "count": 3, "hd": True, "meta": {"a": 1}, "photo": REF}


def test_json_values_pass_through_and_defaults_apply() -> None:
    values = coerce_inputs(CONFIG, {"prompt": "hi", "count": 2.5, "hd": False})
    assert values == {"prompt": "hi", "count": 2.5, "hd": False, "meta": None, "photo": None}
    assert coerce_inputs(CONFIG, {"prompt": "x"})["count"] == 2


def test_coerced_values_are_accepted_again() -> None:
    """The API coerces a call's fields, then the trigger node coerces the run's inputs."""
    once = coerce_inputs(CONFIG, {"prompt": "hi"})
    assert once == {"prompt": "hi", "count": 2, "hd": None, "meta": None, "photo": None}
    assert coerce_inputs(CONFIG, once) == once


def test_null_is_no_value() -> None:
    values = coerce_inputs(CONFIG, {"prompt": "x", "count": None, "hd": None, "photo": None})
    assert values == {"prompt": "x", "count": 2, "hd": None, "meta": None, "photo": None}
    with pytest.raises(InputError, match="'prompt': is required but was not given"):
        coerce_inputs(CONFIG, {"prompt": None})


@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_blank_text_is_no_value_so_a_required_field_is_missing(blank: str) -> None:
    with pytest.raises(InputError) as info:
        coerce_inputs(CONFIG, {"prompt": blank})

    [problem] = info.value.problems
    assert (problem.field, problem.message) == ("prompt", "is required but was empty")
    assert coerce_inputs(CONFIG, {"prompt": "x", "count": blank})["count"] == 2  # the default


def test_every_bad_field_is_listed() -> None:
    with pytest.raises(InputError) as info:
        coerce_inputs(
            CONFIG, {"count": "many", "hd": "maybe", "meta": "{", "photo": "p.png", "extra": 1}
        )
    lines = str(info.value).splitlines()
    assert lines[0] == "unknown input 'extra'"
    assert "input 'prompt': is required but was not given" in lines
    assert "input 'count': expects a number, got 'many'" in lines
    assert "input 'hd': expects true or false, got 'maybe'" in lines
    assert any(line.startswith("input 'meta': is not valid JSON") for line in lines)
    assert any(line.startswith("input 'photo': expects an image") for line in lines)
    assert lines[-1].startswith("the trigger's fields are: prompt (text), count (number)")


@pytest.mark.parametrize("bad", ["nan", "inf", True])
def test_numbers_must_be_finite_and_not_booleans(bad: object) -> None:
    with pytest.raises(InputError):
        coerce_inputs(CONFIG, {"prompt": "x", "count": bad})


def test_text_refuses_objects() -> None:
    with pytest.raises(InputError, match="expects text"):
        coerce_inputs(CONFIG, {"prompt": {"a": 1}})


def test_field_names_must_be_unique() -> None:
    with pytest.raises(ValueError, match="repeated: a"):
        HttpTriggerConfig.model_validate({"fields": [{"name": "a"}, {"name": "a"}]})
