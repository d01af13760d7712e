// Helpers for the pydantic JSON schemas the node types serve.
import type { JsonObject, JsonSchema, JsonValue } from "../api/types";

/** Follows a local `$ref` ("#/$defs/Name") against the root schema. */
export function resolve(schema: JsonSchema, root: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; current.$ref && depth < 8; depth++) {
    const name = current.$ref.replace(/^#\/\$defs\//, "");
    const target = root.$defs?.[name];
    if (!target) break;
    const { $ref: _ignored, ...rest } = current;
    void _ignored;
    current = { ...target, ...rest };
  }
  return current;
}

/** `anyOf: [X, {type: null}]` → X marked nullable. Other shapes come back unchanged. */
export function unwrapNullable(schema: JsonSchema, root: JsonSchema): { schema: JsonSchema; nullable: boolean } {
  const resolved = resolve(schema, root);
  const variants = resolved.anyOf ?? resolved.oneOf;
  if (variants) {
    const nonNull = variants.filter((v) => v.type !== "null");
    if (nonNull.length === 1 && nonNull.length < variants.length) {
      const { anyOf: _a, oneOf: _o, ...outer } = resolved;
      void _a;
      void _o;
      return { schema: { ...resolve(nonNull[0]!, root), ...outer }, nullable: true };
    }
  }
  return { schema: resolved, nullable: false };
}

export function schemaType(schema: JsonSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((t) => t !== "null") : schema.type;
}

/** A starting value for an object schema: its defaults and required members. */
export function defaultObject(schema: JsonSchema, root: JsonSchema): JsonObject {
  const resolved = resolve(schema, root);
  const value: JsonObject = {};
  for (const name of resolved.required ?? []) {
    const prop = resolved.properties?.[name];
    if (!prop) continue;
    value[name] = defaultValue(prop, root);
  }
  return value;
}

function defaultValue(schema: JsonSchema, root: JsonSchema): JsonValue {
  const { schema: s, nullable } = unwrapNullable(schema, root);
  if (s.default !== undefined) return s.default;
  if (nullable) return null;
  switch (schemaType(s)) {
    case "string":
      return s.enum?.[0] ?? "";
    case "integer":
    case "number":
      return s.minimum ?? 0;
    case "boolean":
      return false;
    case "array":
      return [];
    case "object":
      return defaultObject(s, root);
    default:
      return null;
  }
}

export function titleOf(name: string, schema: JsonSchema): string {
  if (schema.title) return schema.title;
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
