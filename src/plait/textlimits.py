"""Text from callers, within what every database can store: no NUL characters (PostgreSQL's
text types refuse them; SQLite would keep them) and no more characters than the column
holds (PostgreSQL refuses longer strings; SQLite would keep them). Checked where the text
comes in, so a caller hears which field is wrong (a 422), never a 500 from the database.

The column lengths live here too: `plait.store.tables` declares its columns with them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

EMAIL_CHARS = 320  # an address's most (RFC 3696 errata)
NAME_CHARS = 200  # flow and token names
MESSAGE_CHARS = 500  # a saved version's message
ID_CHARS = 64  # ids callers choose: triggers, nodes
LONG_TEXT_CHARS = 100_000  # descriptions (unbounded columns, bounded all the same)

NUL = "\x00"


def no_nul(value: str) -> str:
    """`value`, unless it holds a NUL character (a pydantic validator: a 422 naming the field)."""
    if NUL in value:
        raise ValueError("holds a NUL character (\\u0000), which cannot be stored; remove it")
    return value


def storable(text: str) -> str:
    """`text` Plait itself writes (an error message quoting a caller's input) with any NUL
    character replaced, so the record can be stored on every database."""
    return text.replace(NUL, "\ufffd") if NUL in text else text


Email = Annotated[str, Field(max_length=EMAIL_CHARS), AfterValidator(no_nul)]
Name = Annotated[str, Field(max_length=NAME_CHARS), AfterValidator(no_nul)]
Message = Annotated[str, Field(max_length=MESSAGE_CHARS), AfterValidator(no_nul)]
ChosenId = Annotated[str, Field(max_length=ID_CHARS), AfterValidator(no_nul)]
LongText = Annotated[str, Field(max_length=LONG_TEXT_CHARS), AfterValidator(no_nul)]
