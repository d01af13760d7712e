// Config forms generated from a node type's JSON schema (pydantic's model_json_schema).
import { useId, useState } from "react";
import type { JsonObject, JsonSchema, JsonValue, Problem } from "../../api/types";
import { defaultObject, isObject, schemaType, titleOf, unwrapNullable } from "../../lib/schema";
import type { ReferenceChoices } from "../../lib/templateRefs";
import { TemplateField } from "./TemplateField";

export interface FormContext {
  root: JsonSchema;
  references: ReferenceChoices;
  problems: readonly Problem[];
  testPrefix: string;
}

function problemFor(ctx: FormContext, path: string): string | null {
  const hit = ctx.problems.find((p) => p.field === path || (p.field && p.field.endsWith(`.${path}`)));
  return hit ? hit.message : null;
}

/** Every property of an object schema, minus `skip`. */
export function SchemaFields({
  schema,
  value,
  onChange,
  ctx,
  skip = [],
  path = "",
}: {
  schema: JsonSchema;
  value: JsonObject;
  onChange: (next: JsonObject) => void;
  ctx: FormContext;
  skip?: readonly string[];
  path?: string;
}) {
  const props = Object.entries(schema.properties ?? {}).filter(([name]) => !skip.includes(name));
  return (
    <>
      {props.map(([name, propSchema]) => (
        <SchemaField
          key={name}
          name={name}
          schema={propSchema}
          value={value[name]}
          required={schema.required?.includes(name) ?? false}
          ctx={ctx}
          path={path ? `${path}.${name}` : name}
          onChange={(next) => {
            const copy = { ...value };
            if (next === undefined) delete copy[name];
            else copy[name] = next;
            onChange(copy);
          }}
        />
      ))}
    </>
  );
}

export function SchemaField({
  name,
  schema: rawSchema,
  value,
  required,
  onChange,
  ctx,
  path,
}: {
  name: string;
  schema: JsonSchema;
  value: JsonValue | undefined;
  required: boolean;
  onChange: (next: JsonValue | undefined) => void;
  ctx: FormContext;
  path: string;
}) {
  const id = useId();
  const { schema, nullable } = unwrapNullable(rawSchema, ctx.root);
  const type = schemaType(schema);
  const label = titleOf(name, schema);
  const current = value === undefined ? schema.default : value;
  const error = problemFor(ctx, path);
  const hintId = `${id}-hint`;
  const testId = `${ctx.testPrefix}-${path.replace(/\./g, "-")}`;

  const wrap = (control: React.ReactNode, inline = false) => (
    <div className={`field${inline ? " field-inline" : ""}${error ? " field-error" : ""}`}>
      {inline ? (
        <>
          {control}
          <label className="field-label" htmlFor={id}>
            {label}
          </label>
        </>
      ) : (
        <>
          <label className="field-label" htmlFor={id}>
            {label}
            {required ? <span className="required-mark" aria-hidden="true"> *</span> : null}
          </label>
          {control}
        </>
      )}
      {error ? (
        <p className="field-message" id={hintId}>
          {error}
        </p>
      ) : schema.description ? (
        <p className="field-hint" id={hintId}>
          {schema.description}
        </p>
      ) : null}
    </div>
  );

  // enum → select
  if (schema.enum && type !== "array") {
    return wrap(
      <select
        id={id}
        value={current === null || current === undefined ? "" : String(current)}
        aria-describedby={hintId}
        data-testid={testId}
        onChange={(e) => onChange(e.target.value === "" && nullable ? null : e.target.value)}
      >
        {nullable || current === undefined ? <option value="">{nullable ? "— none —" : "Choose…"}</option> : null}
        {schema.enum.map((option) => (
          <option key={String(option)} value={String(option)}>
            {String(option)}
          </option>
        ))}
      </select>,
    );
  }

  switch (type) {
    case "boolean":
      return wrap(
        <input
          id={id}
          type="checkbox"
          checked={Boolean(current)}
          aria-describedby={hintId}
          data-testid={testId}
          onChange={(e) => onChange(e.target.checked)}
        />,
        true,
      );
    case "integer":
    case "number":
      return wrap(
        <input
          id={id}
          type="number"
          inputMode={type === "integer" ? "numeric" : "decimal"}
          step={type === "integer" ? 1 : schema.maximum !== undefined && schema.maximum <= 1 ? 0.01 : "any"}
          min={schema.minimum ?? schema.exclusiveMinimum}
          max={schema.maximum ?? schema.exclusiveMaximum}
          value={typeof current === "number" ? current : ""}
          placeholder={nullable ? "auto" : undefined}
          aria-describedby={hintId}
          data-testid={testId}
          onChange={(e) => {
            const raw = e.target.value;
            if (raw === "") return onChange(nullable ? null : undefined);
            const n = type === "integer" ? parseInt(raw, 10) : parseFloat(raw);
            if (!Number.isNaN(n)) onChange(n);
          }}
        />,
      );
    case "string":
      if (schema.format === "template")
        return wrap(
          <TemplateField
            id={id}
            value={typeof current === "string" ? current : ""}
            references={ctx.references}
            describedBy={hintId}
            testId={testId}
            rows={name === "value" || name === "caption" ? 1 : 3}
            onChange={(v) => onChange(v === "" && nullable ? null : v)}
          />,
        );
      if (schema.format === "color")
        return wrap(<ColorInput id={id} value={typeof current === "string" ? current : ""} testId={testId} onChange={onChange} />);
      return wrap(
        <input
          id={id}
          type="text"
          value={typeof current === "string" ? current : ""}
          pattern={schema.pattern?.replace(/^\^|\$$/g, "")}
          aria-describedby={hintId}
          data-testid={testId}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value === "" && nullable ? null : e.target.value)}
        />,
      );
    case "array": {
      const items = unwrapNullable(schema.items ?? {}, ctx.root).schema;
      const list = Array.isArray(current) ? current : [];
      if (items.enum) return wrap(<EnumSet id={id} options={items.enum} value={list} testId={testId} onChange={onChange} />);
      if (schemaType(items) === "object")
        return (
          <ObjectList
            label={label}
            description={schema.description}
            itemSchema={items}
            value={list.filter(isObject)}
            min={schema.minItems ?? 0}
            ctx={ctx}
            path={path}
            onChange={onChange}
          />
        );
      return wrap(
        <textarea
          id={id}
          rows={2}
          value={list.map(String).join("\n")}
          aria-describedby={hintId}
          data-testid={testId}
          onChange={(e) => onChange(e.target.value.split("\n").filter(Boolean))}
        />,
      );
    }
    case "object":
      return (
        <NestedObject
          label={label}
          schema={schema}
          nullable={nullable}
          value={isObject(current) ? current : null}
          ctx={ctx}
          path={path}
          onChange={onChange}
        />
      );
    default:
      // Untyped (e.g. a trigger field's default): edited as text, sent as given.
      return wrap(
        <input
          id={id}
          type="text"
          value={current === null || current === undefined ? "" : typeof current === "string" ? current : JSON.stringify(current)}
          aria-describedby={hintId}
          data-testid={testId}
          onChange={(e) => onChange(e.target.value === "" ? null : e.target.value)}
        />,
      );
  }
}

function ColorInput({ id, value, onChange, testId }: { id: string; value: string; onChange: (v: string) => void; testId: string }) {
  const six = /^#[0-9a-fA-F]{6}/.test(value) ? value.slice(0, 7) : /^#[0-9a-fA-F]{3}$/.test(value) ? `#${[...value.slice(1)].map((c) => c + c).join("")}` : "#000000";
  return (
    <div className="color-input">
      <input type="color" aria-label="Pick a colour" value={six} onChange={(e) => onChange(e.target.value + value.slice(7))} />
      <input id={id} type="text" value={value} spellCheck={false} data-testid={testId} onChange={(e) => onChange(e.target.value)} />
    </div>
  );
}

function EnumSet({
  id,
  options,
  value,
  onChange,
  testId,
}: {
  id: string;
  options: readonly JsonValue[];
  value: readonly JsonValue[];
  onChange: (v: JsonValue[]) => void;
  testId: string;
}) {
  return (
    <div className="enum-set" id={id} role="group" data-testid={testId}>
      {options.map((option) => {
        const key = String(option);
        return (
          <label key={key} className="check">
            <input
              type="checkbox"
              checked={value.includes(option)}
              onChange={(e) => onChange(e.target.checked ? [...value, option] : value.filter((v) => v !== option))}
            />
            {key}
          </label>
        );
      })}
    </div>
  );
}

/** A fresh item for a list: its defaults, with a unique `name`/`port` when it has one. */
export function newItem(itemSchema: JsonSchema, root: JsonSchema, existing: readonly JsonObject[]): JsonObject {
  const item = defaultObject(itemSchema, root);
  for (const key of ["name", "port"]) {
    if (!itemSchema.properties?.[key]) continue;
    const taken = new Set(existing.map((e) => e[key]));
    const base = key === "port" ? "ref" : "field";
    let i = existing.length + 1;
    while (taken.has(`${base}_${i}`)) i++;
    item[key] = `${base}_${i}`;
  }
  if (itemSchema.properties?.["text"] && item["text"] === "") item["text"] = "Text";
  return item;
}

export function move<T>(list: readonly T[], from: number, to: number): T[] {
  const copy = [...list];
  const [item] = copy.splice(from, 1);
  if (item !== undefined) copy.splice(to, 0, item);
  return copy;
}

function itemTitle(item: JsonObject, index: number): string {
  const name = item["name"] ?? item["port"] ?? item["text"];
  return typeof name === "string" && name ? `${index + 1}. ${name}` : `Item ${index + 1}`;
}

function ObjectList({
  label,
  description,
  itemSchema,
  value,
  min,
  ctx,
  path,
  onChange,
}: {
  label: string;
  description: string | undefined;
  itemSchema: JsonSchema;
  value: JsonObject[];
  min: number;
  ctx: FormContext;
  path: string;
  onChange: (v: JsonValue[]) => void;
}) {
  const testId = `${ctx.testPrefix}-${path.replace(/\./g, "-")}`;
  const error = problemFor(ctx, path);
  // Long items (e.g. overlay layers) can be folded to their title.
  const [folded, setFolded] = useState<ReadonlySet<number>>(() => new Set(value.length > 2 ? value.map((_, i) => i) : []));
  const toggle = (index: number) =>
    setFolded((set) => {
      const next = new Set(set);
      if (next.has(index)) next.delete(index);
      else next.add(index);
      return next;
    });
  return (
    <fieldset className="object-list" data-testid={testId}>
      <legend>{label}</legend>
      {description ? <p className="field-hint">{description}</p> : null}
      {error ? <p className="field-message">{error}</p> : null}
      {value.map((item, index) => (
        <div key={index} className="object-item" data-testid={`${testId}-${index}`}>
          <div className="object-item-header">
            <button
              type="button"
              className="object-item-toggle"
              aria-expanded={!folded.has(index)}
              data-testid={`${testId}-${index}-toggle`}
              onClick={() => toggle(index)}
            >
              <span aria-hidden="true">{folded.has(index) ? "▸" : "▾"}</span> {itemTitle(item, index)}
            </button>
            <span className="object-item-actions">
              <button type="button" className="icon-button" aria-label={`Move ${itemTitle(item, index)} up`} disabled={index === 0} onClick={() => onChange(move(value, index, index - 1))}>
                ↑
              </button>
              <button
                type="button"
                className="icon-button"
                aria-label={`Move ${itemTitle(item, index)} down`}
                disabled={index === value.length - 1}
                onClick={() => onChange(move(value, index, index + 1))}
              >
                ↓
              </button>
              <button
                type="button"
                className="icon-button danger"
                aria-label={`Remove ${itemTitle(item, index)}`}
                disabled={value.length <= min}
                onClick={() => onChange(value.filter((_, i) => i !== index))}
              >
                ×
              </button>
            </span>
          </div>
          {folded.has(index) ? null : (
            <SchemaFields
              schema={itemSchema}
              value={item}
              ctx={ctx}
              path={`${path}.${index}`}
              onChange={(next) => onChange(value.map((v, i) => (i === index ? next : v)))}
            />
          )}
        </div>
      ))}
      <button type="button" className="button button-small" data-testid={`${testId}-add`} onClick={() => onChange([...value, newItem(itemSchema, ctx.root, value)])}>
        Add {label.toLowerCase().replace(/s$/, "")}
      </button>
    </fieldset>
  );
}

function NestedObject({
  label,
  schema,
  nullable,
  value,
  ctx,
  path,
  onChange,
}: {
  label: string;
  schema: JsonSchema;
  nullable: boolean;
  value: JsonObject | null;
  ctx: FormContext;
  path: string;
  onChange: (v: JsonValue) => void;
}) {
  const id = useId();
  return (
    <fieldset className="nested-object">
      <legend>{label}</legend>
      {schema.description ? <p className="field-hint">{schema.description}</p> : null}
      {nullable ? (
        <div className="field field-inline">
          <input id={id} type="checkbox" checked={value !== null} onChange={(e) => onChange(e.target.checked ? defaultObject(schema, ctx.root) : null)} />
          <label className="field-label" htmlFor={id}>
            Use {label.toLowerCase()}
          </label>
        </div>
      ) : null}
      {value !== null || !nullable ? (
        <SchemaFields schema={schema} value={value ?? {}} ctx={ctx} path={path} onChange={(next) => onChange(next)} />
      ) : null}
    </fieldset>
  );
}
