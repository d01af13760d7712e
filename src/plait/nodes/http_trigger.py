"""HTTP Trigger: where a run's inputs enter the flow, one output port per declared field."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, field_validator

from plait import jsonlimits
from plait.errors import InputError, Problem
from plait.flows.model import NAME_PATTERN, unique_names
from plait.flows.ports import Port, PortType, not_given
from plait.jsonlimits import JsonLimitError
from plait.media.image_ref import ImageRef
from plait.nodes.base import InstantNodeType, NodeContext

if TYPE_CHECKING:
    from plait.flows.validate import CompiledFlow

FieldType = Literal["text", "number", "boolean", "image", "json"]


class TriggerField(BaseModel):
    name: str = Field(pattern=rf"^{NAME_PATTERN}$", description="Field name in the request body")
    type: FieldType = Field(default="text", description="Value type")
    required: bool = Field(default=True, description="Whether callers must send it")
    default: Any = Field(default=None, description="Value used when it is not sent")
    description: str = Field(default="", description="Shown in the API docs")


class HttpTriggerConfig(BaseModel):
    fields: list[TriggerField] = Field(
        default_factory=lambda: [TriggerField(name="prompt")],
        description="The input fields callers send",
    )

    @field_validator("fields")
    @classmethod
    def _unique_names(cls, fields: list[TriggerField]) -> list[TriggerField]:
        return unique_names(fields)


class HttpTrigger(InstantNodeType[HttpTriggerConfig]):
    type = "http_trigger"
    title = "HTTP Trigger"
    category = "Triggers"
    description = "Starts the flow with the fields a caller sends (or -i NAME=VALUE in plait run)."
    is_trigger = True
    config_model = HttpTriggerConfig

    def outputs(self, config: HttpTriggerConfig) -> list[Port]:
        return [Port(f.name, PortType(f.type), description=f.description) for f in config.fields]

    def run_now(
        self, ctx: NodeContext, config: HttpTriggerConfig, inputs: dict[str, Any]
    ) -> dict[str, Any]:
        return coerce_inputs(config, ctx.run_inputs)


_JSON_TYPES: dict[str, dict[str, Any]] = {
    "text": {"type": "string"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "json": {},
    "image": {
        "type": "string",
        "description": "an image as a data: URL or base64 (JSON), or a file part (multipart)",
    },
}


def fields_schema(fields: list[TriggerField]) -> dict[str, Any]:
    """The JSON schema of a trigger's body: one property per declared field."""
    return {
        "type": "object",
        "properties": {
            f.name: {**_JSON_TYPES[f.type], "description": f.description or f.type} for f in fields
        },
        "required": [f.name for f in fields if f.required and f.default is None],
        "additionalProperties": False,
    }


def coerce_inputs(config: HttpTriggerConfig, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check run inputs against the declared fields, apply defaults and convert types.

    Strings are accepted for every type (command-line and form values). Raises
    InputError listing every bad field, one per line.
    """
    problems: list[tuple[Problem, str]] = [
        (Problem("is not a field of this trigger", field=name), f"unknown input '{name}'")
        for name in raw
        if name not in _names(config)
    ]
    values: dict[str, Any] = {}
    for field in config.fields:
        try:
            values[field.name] = _value(field, raw)
        except ValueError as exc:
            problems.append((Problem(str(exc), field=field.name), f"input '{field.name}': {exc}"))
    if problems:
        expected = ", ".join(f"{f.name} ({f.type})" for f in config.fields) or "none"
        lines = [line for _, line in problems]
        raise InputError(
            "\n".join([*lines, f"the trigger's fields are: {expected}"]),
            problems=[problem for problem, _ in problems],
        )
    return values


def _names(config: HttpTriggerConfig) -> set[str]:
    return {f.name for f in config.fields}


def _value(field: TriggerField, raw: Mapping[str, Any]) -> Any:
    # null and blank text are no value (`not_given`): the trigger node coerces again what
    # the API coerced, in which an optional field without a default is None.
    given = raw.get(field.name)
    if not not_given(given):
        return convert(field.type, given)
    if field.default is not None:
        return convert(field.type, field.default)
    if field.required:
        raise ValueError(
            "is required but was empty" if given is not None else "is required but was not given"
        )
    return None


def convert(kind: FieldType, value: Any) -> Any:
    """One value to the field's type; raises ValueError saying what was expected."""
    if kind == "image":
        if isinstance(value, ImageRef):
            return value
        raise ValueError("expects an image (in plait run: -i NAME=@path/to/image.png)")
    if kind == "json":
        return _json(value)
    if kind == "number":
        return _number(value)
    if kind == "boolean":
        return _boolean(value)
    if isinstance(value, dict | list):
        raise ValueError("expects text, got a JSON object or array")
    return value if isinstance(value, str) else json.dumps(value)


def _json(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return jsonlimits.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"is not valid JSON ({exc.msg} at column {exc.colno})") from None
    except JsonLimitError as exc:
        raise ValueError(f"is not accepted: {exc}") from None


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("expects a number, got a boolean")
    if isinstance(value, int | float):
        return value
    try:
        number = float(str(value))
    except ValueError:
        raise ValueError(f"expects a number, got '{value}'") from None
    if not math.isfinite(number):
        raise ValueError(f"expects a finite number, got '{value}'")
    return int(number) if number.is_integer() and "." not in str(value) else number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ValueError(f"expects true or false, got '{value}'")


def trigger_config(compiled: CompiledFlow, entry: str | None) -> HttpTriggerConfig | None:
    """The fields of the trigger `entry` (an `entry_trigger` answer); None without one."""
    if entry is None:
        return None
    config = compiled.nodes[entry].config
    assert isinstance(config, HttpTriggerConfig)
    return config
