"""Text from callers, within what every database can store: no NUL characters (PostgreSQL's
text types refuse them; SQLite would keep them) and no more characters than the column
holds (PostgreSQL refuses longer strings; SQLite would keep them). Checked where the text
comes in, so a caller hears which field is wrong (a 422), never a 500 from the database.

The column lengths live here too: `plait.store.tables` declares its columns with them.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

EMAIL_CHARS = 320  # an address's most (RFC 3696 errata)
NAME_CHARS = 200  # flow and token names
MESSAGE_CHARS = 500  # a saved version's message
ID_CHARS = 64  # ids callers choose: triggers, nodes
LONG_TEXT_CHARS = 100_000  # descriptions (unbounded columns, bounded all the same)

NUL = "\x00"


def holds_nul(written: str) -> str:
    """The refusal of text with a NUL character, shown as the caller wrote it (`written`:
    `\\u0000` in JSON, `%00` in a URL)."""
    return f"holds a NUL character ({written}), which cannot be stored or looked up; remove it"


def fits(max_length: int) -> AfterValidator:
    """A pydantic validator: no NUL character, at most `max_length` characters (a 422
    naming the field). Checked in Python, so text that is not Unicode (an unpaired
    surrogate) is left to the answer every route gives it (`plait.api.errors`)."""

    def check(value: str) -> str:
        if NUL in value:
            raise ValueError(holds_nul("\\u0000"))
        if len(value) > max_length:
            raise ValueError(f"has {len(value)} characters; at most {max_length} can be stored")
        return value

    return AfterValidator(check)


def _bounded(max_length: int) -> Any:
    """The pieces of a bounded text type: the check, and `maxLength` in the schema."""
    return (fits(max_length), Field(json_schema_extra={"maxLength": max_length}))


def storable(text: str | None) -> str | None:
    """`text` Plait itself writes (an error message quoting a caller's input) with any NUL
    character replaced, so the record can be stored on every database."""
    return text.replace(NUL, "\ufffd") if text and NUL in text else text


Email = Annotated[str, *_bounded(EMAIL_CHARS)]
Name = Annotated[str, *_bounded(NAME_CHARS)]
Message = Annotated[str, *_bounded(MESSAGE_CHARS)]
ChosenId = Annotated[str, *_bounded(ID_CHARS)]
LongText = Annotated[str, *_bounded(LONG_TEXT_CHARS)]
