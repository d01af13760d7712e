"""Text templates: `{{ node.port }}` (and `{{ node.port.key.0 }}` into JSON) substitution.

Templates only look values up and format them; they never run code. Anything
between `{{` and `}}` that is not such a reference is a validation problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel, GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

_BRACES = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_REFERENCE = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_-]+)*)\s*$"
)


class Template(str):
    """A config string that may hold `{{ node.port }}` references (schema format `template`)."""

    __slots__ = ()

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(
            cls, core_schema.str_schema(), serialization=core_schema.to_string_ser_schema()
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "format": "template"}


@dataclass(frozen=True, slots=True)
class Reference:
    node: str
    port: str
    path: tuple[str, ...] = ()

    def __str__(self) -> str:
        return ".".join((self.node, self.port, *self.path))


class TemplateSyntaxError(ValueError):
    pass


def references(text: str) -> list[Reference]:
    """Every reference in `text`, in order; raises TemplateSyntaxError on a bad one."""
    found = []
    for match in _BRACES.finditer(text):
        ref = _REFERENCE.match(match.group(1))
        if ref is None:
            raise TemplateSyntaxError(
                f"'{{{{{match.group(1)}}}}}' is not a reference; write {{{{ node_id.port }}}}"
            )
        path = tuple(p for p in ref.group(3).split(".") if p)
        found.append(Reference(ref.group(1), ref.group(2), path))
    if "{{" in _BRACES.sub("", text):
        raise TemplateSyntaxError("'{{' is never closed with '}}'")
    return found


def render(text: str, lookup: Callable[[Reference], Any]) -> str:
    """Replace each reference with its value formatted as text."""

    def substitute(match: re.Match[str]) -> str:
        ref = _REFERENCE.match(match.group(1))
        assert ref is not None  # validated before running
        path = tuple(p for p in ref.group(3).split(".") if p)
        return as_text(lookup(Reference(ref.group(1), ref.group(2), path)))

    return _BRACES.sub(substitute, text)


def dig(value: Any, path: tuple[str, ...]) -> Any:
    """Follow `path` into JSON objects and arrays; a missing step gives None."""
    for step in path:
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float | dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


M = TypeVar("M", bound=BaseModel)


def render_config(config: M, lookup: Callable[[Reference], Any]) -> M:
    """A copy of `config` with every template rendered (the original is untouched)."""
    rendered = _render_value(config, lookup)
    assert isinstance(rendered, type(config))
    return rendered


def _render_value(value: Any, lookup: Callable[[Reference], Any]) -> Any:
    if isinstance(value, Template):
        return Template(render(value, lookup))
    if isinstance(value, BaseModel):
        updates = {
            name: _render_value(getattr(value, name), lookup) for name in type(value).model_fields
        }
        return value.model_copy(update=updates)
    if isinstance(value, list):
        return [_render_value(item, lookup) for item in value]
    return value


def templates_in(config: BaseModel) -> Iterator[tuple[str, Template]]:
    """Every template string in a config model, with a dotted path to it."""
    yield from _walk(config, "")


def _walk(value: Any, path: str) -> Iterator[tuple[str, Template]]:
    if isinstance(value, Template):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, f"{path}[{i}]")
