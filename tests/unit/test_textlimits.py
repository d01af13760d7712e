import pytest
from pydantic import BaseModel, ValidationError

from plait.textlimits import Name, storable


class Named(BaseModel):
    name: Name


@pytest.mark.parametrize(
    ("value", "problem"), [("a\x00b", "NUL character"), ("n" * 201, "201 characters; at most 200")]
)
def test_text_no_column_can_hold_is_refused_naming_the_field(value: str, problem: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Named(name=value)
    [error] = refused.value.errors()
    assert error["loc"] == ("name",)
    assert problem in error["msg"]


def test_text_that_fits_is_kept() -> None:
    assert Named(name="n" * 200).name == "n" * 200


def test_text_plait_writes_has_its_nul_characters_replaced() -> None:
    assert storable("input 'a\x00b' is wrong") == "input 'a\ufffdb' is wrong"
    assert storable("plain") == "plain"
    assert storable(None) is None
