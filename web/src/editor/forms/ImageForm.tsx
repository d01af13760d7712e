// The Image node's purpose-made fields: model, aspect ratio, size, prompt and references.
import { useId, useState } from "react";
import { api, errorMessage } from "../../api/client";
import type { JsonObject, JsonValue, ModelInfo } from "../../api/types";
import { formatCost } from "../../lib/format";
import { isObject } from "../../lib/schema";
import { findModel, pricePerImage, useCatalog } from "../catalog";
import { move, SchemaFields, type FormContext } from "./SchemaForm";
import { TemplateField } from "./TemplateField";

/** No ratio is sent: an edit keeps its first reference's shape, a new image is square. */
const AUTO = "auto";

const LIFECYCLE_LABEL: Record<string, string> = { ga: "GA", preview: "preview", deprecated: "deprecated" };

function LifecycleBadge({ lifecycle }: { lifecycle: string }) {
  return <span className={`badge lifecycle-${lifecycle}`}>{LIFECYCLE_LABEL[lifecycle] ?? lifecycle}</span>;
}

/** Keeps ratio, size and references within what `model` offers. */
function fitToModel(config: JsonObject, model: ModelInfo): JsonObject {
  const next: JsonObject = { ...config, model: model.id };
  const ratio = next["aspect_ratio"];
  if (typeof ratio === "string" && ratio !== AUTO && !model.aspect_ratios.includes(ratio))
    next["aspect_ratio"] = model.aspect_ratios.includes("1:1") ? "1:1" : (model.aspect_ratios[0] ?? "1:1");
  const size = next["image_size"];
  if (typeof size === "string" && !model.image_sizes.includes(size)) next["image_size"] = null;
  return next;
}

export function ImageForm({
  config,
  onChange,
  ctx,
  connectedPorts,
}: {
  config: JsonObject;
  onChange: (next: JsonObject) => void;
  ctx: FormContext;
  connectedPorts: ReadonlyMap<string, string>;
}) {
  const { models } = useCatalog();
  const ids = { model: useId(), ratio: useId(), size: useId(), prompt: useId() };
  const modelId = typeof config["model"] === "string" ? config["model"] : models.default;
  const model = findModel(models, modelId);
  const ratio = typeof config["aspect_ratio"] === "string" ? config["aspect_ratio"] : AUTO;
  const size = typeof config["image_size"] === "string" ? config["image_size"] : null;
  const prompt = typeof config["prompt"] === "string" ? config["prompt"] : "";
  const references = Array.isArray(config["references"]) ? config["references"].filter(isObject) : [];
  const modalities = Array.isArray(config["response_modalities"]) ? config["response_modalities"].filter((m) => typeof m === "string") : DEFAULT_MODALITIES;
  const set = (key: string, value: JsonValue) => onChange({ ...config, [key]: value });
  const problem = (field: string) => ctx.problems.find((p) => p.field === field || p.port === field)?.message ?? null;
  const price = model ? pricePerImage(model, size ?? (model.image_sizes.length ? "1K" : null)) : null;
  const successor = model?.successor ? findModel(models, model.successor) : undefined;
  const promptWired = connectedPorts.get("prompt");

  return (
    <>
      <div className={problem("model") ? "field field-error" : "field"}>
        <label className="field-label" htmlFor={ids.model}>
          Model
        </label>
        <select
          id={ids.model}
          value={modelId}
          data-testid="config-model"
          onChange={(e) => {
            const next = findModel(models, e.target.value);
            if (next) onChange(fitToModel(config, next));
          }}
        >
          {model ? null : <option value={modelId}>{modelId} (unknown)</option>}
          {models.models.map((m) => {
            const p = pricePerImage(m, m.image_sizes.length ? "1K" : null);
            return (
              <option key={m.id} value={m.id}>
                {m.label}
                {m.lifecycle !== "ga" ? ` — ${LIFECYCLE_LABEL[m.lifecycle] ?? m.lifecycle}` : ""}
                {p !== null ? ` — ${formatCost(p)}/image` : ""}
              </option>
            );
          })}
        </select>
        {model ? (
          <p className="field-hint model-facts" data-testid="model-facts">
            <LifecycleBadge lifecycle={model.lifecycle} /> <code>{model.id}</code>
            {price !== null ? <> · {formatCost(price)} per image</> : null} · up to {model.max_references} references
            {successor ? <> · superseded by {successor.label}</> : null}
          </p>
        ) : null}
        {problem("model") ? <p className="field-message">{problem("model")}</p> : null}
      </div>

      <div className="field-pair">
        <div className={problem("aspect_ratio") ? "field field-error" : "field"}>
          <label className="field-label" htmlFor={ids.ratio}>
            Aspect ratio
          </label>
          <select id={ids.ratio} value={ratio} data-testid="config-aspect-ratio" onChange={(e) => set("aspect_ratio", e.target.value)}>
            <option value={AUTO}>{references.length ? "auto (keep the reference's shape)" : "auto (square)"}</option>
            {model && ratio !== AUTO && !model.aspect_ratios.includes(ratio) ? <option value={ratio}>{ratio} (not offered)</option> : null}
            {(model?.aspect_ratios ?? [ratio]).map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
          {problem("aspect_ratio") ? <p className="field-message">{problem("aspect_ratio")}</p> : null}
        </div>
        <div className={problem("image_size") ? "field field-error" : "field"}>
          <label className="field-label" htmlFor={ids.size}>
            Size
          </label>
          <select
            id={ids.size}
            value={size ?? ""}
            disabled={!model || model.image_sizes.length === 0}
            data-testid="config-image-size"
            onChange={(e) => set("image_size", e.target.value || null)}
          >
            <option value="">{model && model.image_sizes.length === 0 ? "No size choice" : "Default"}</option>
            {(model?.image_sizes ?? []).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
          {problem("image_size") ? <p className="field-message">{problem("image_size")}</p> : null}
        </div>
      </div>

      <div className={problem("prompt") ? "field field-error" : "field"}>
        <label className="field-label" htmlFor={ids.prompt}>
          Prompt
        </label>
        {promptWired ? (
          <p className="field-hint">
            Wired from <code>{promptWired}</code>; this text is used only when the edge is removed.
          </p>
        ) : null}
        <TemplateField
          id={ids.prompt}
          value={prompt}
          rows={4}
          references={ctx.references}
          testId="config-prompt"
          placeholder="A studio photo of {{ trigger.product }} on a white background"
          onChange={(v) => set("prompt", v)}
        />
        {problem("prompt") ? <p className="field-message">{problem("prompt")}</p> : null}
      </div>

      <ReferencesEditor
        references={references}
        max={model?.max_references ?? 14}
        ctx={ctx}
        connectedPorts={connectedPorts}
        onChange={(next) => set("references", next)}
      />

      <ModalitiesField modalities={modalities} problem={problem("response_modalities")} onChange={(next) => set("response_modalities", next)} />

      <SchemaFields
        schema={ctx.root}
        value={config}
        ctx={ctx}
        skip={["model", "prompt", "references", "aspect_ratio", "image_size", "response_modalities"]}
        onChange={onChange}
      />
    </>
  );
}

const DEFAULT_MODALITIES = ["TEXT", "IMAGE"];

/** What Gemini returns: always the image (an Image node asks for one), and its words if wanted. */
function ModalitiesField({ modalities, problem, onChange }: { modalities: string[]; problem: string | null; onChange: (next: string[]) => void }) {
  const withText = modalities.includes("TEXT");
  return (
    <fieldset className={problem ? "field field-error" : "field"} data-testid="config-response-modalities">
      <legend className="field-label">The model returns</legend>
      <label className="checkbox">
        <input type="checkbox" checked disabled data-testid="modality-image" /> The image (always)
      </label>
      <label className="checkbox">
        <input type="checkbox" checked={withText} data-testid="modality-text" onChange={(e) => onChange(e.target.checked ? ["TEXT", "IMAGE"] : ["IMAGE"])} /> Its text
        too (the <code>text</code> output)
      </label>
      {problem ? <p className="field-message">{problem}</p> : null}
    </fieldset>
  );
}

function ReferencesEditor({
  references,
  max,
  ctx,
  connectedPorts,
  onChange,
}: {
  references: JsonObject[];
  max: number;
  ctx: FormContext;
  connectedPorts: ReadonlyMap<string, string>;
  onChange: (next: JsonObject[]) => void;
}) {
  const [previews, setPreviews] = useState<Record<string, string>>({});
  const [uploading, setUploading] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);

  function add() {
    const taken = new Set(references.map((r) => r["port"]));
    let i = references.length + 1;
    while (taken.has(`ref_${i}`)) i++;
    onChange([...references, { port: `ref_${i}`, caption: "" }]);
  }

  async function upload(index: number, file: File) {
    setUploading(index);
    setError(null);
    try {
      const answer = await api.upload(file);
      const sha = answer.image.$image.sha256;
      setPreviews((p) => ({ ...p, [sha]: answer.url }));
      onChange(references.map((r, i) => (i === index ? { ...r, blob: sha, file: null } : r)));
    } catch (e) {
      setError(`Upload failed: ${errorMessage(e)}`);
    } finally {
      setUploading(null);
    }
  }

  const update = (index: number, patch: JsonObject) => onChange(references.map((r, i) => (i === index ? { ...r, ...patch } : r)));

  return (
    <fieldset className="object-list references" data-testid="config-references">
      <legend>References</legend>
      <p className="field-hint">
        Sent after the prompt, in this order: each caption directly followed by its image. Each reference is also an
        input port; an edge to it wins over an upload.
      </p>
      {references.map((ref, index) => {
        const port = String(ref["port"] ?? "");
        const blob = typeof ref["blob"] === "string" ? ref["blob"] : null;
        const file = typeof ref["file"] === "string" ? ref["file"] : null;
        const wired = connectedPorts.get(port);
        const preview = blob ? previews[blob] : undefined;
        const portProblem = ctx.problems.find((p) => p.port === port)?.message;
        return (
          <div key={index} className="object-item reference-item" data-testid={`reference-${index}`}>
            <div className="object-item-header">
              <span className="object-item-title">
                {index + 1}. <code>{port}</code>
              </span>
              <span className="object-item-actions">
                <button type="button" className="icon-button" aria-label={`Move reference ${port} up`} disabled={index === 0} onClick={() => onChange(move(references, index, index - 1))}>
                  ↑
                </button>
                <button
                  type="button"
                  className="icon-button"
                  aria-label={`Move reference ${port} down`}
                  disabled={index === references.length - 1}
                  onClick={() => onChange(move(references, index, index + 1))}
                >
                  ↓
                </button>
                <button type="button" className="icon-button danger" aria-label={`Remove reference ${port}`} onClick={() => onChange(references.filter((_, i) => i !== index))}>
                  ×
                </button>
              </span>
            </div>
            <label className="field">
              <span className="field-label">Port name</span>
              <input type="text" value={port} spellCheck={false} data-testid={`reference-${index}-port`} onChange={(e) => update(index, { port: e.target.value })} />
            </label>
            <label className="field">
              <span className="field-label">Caption</span>
              <input
                type="text"
                value={typeof ref["caption"] === "string" ? ref["caption"] : ""}
                placeholder="e.g. the product:"
                data-testid={`reference-${index}-caption`}
                onChange={(e) => update(index, { caption: e.target.value })}
              />
            </label>
            <div className="reference-source">
              {wired ? (
                <p className="small">
                  Image from the edge <code>{wired}</code>.
                </p>
              ) : blob ? (
                <p className="small">
                  {preview ? <img className="reference-thumb" src={preview} alt={`Reference ${port}`} /> : null}
                  Uploaded image <code>{blob.slice(0, 10)}…</code>
                </p>
              ) : file ? (
                <p className="small">
                  File <code>{file}</code>
                </p>
              ) : (
                <p className="small muted">No image yet: connect an image to the port {port}, or upload one.</p>
              )}
              <label className="button button-small file-button">
                {uploading === index ? "Uploading…" : blob ? "Replace upload…" : "Upload image…"}
                <input
                  type="file"
                  accept="image/png,image/jpeg,image/webp,image/heic,image/heif"
                  className="sr-only"
                  data-testid={`reference-${index}-upload`}
                  onChange={(e) => {
                    const f = e.target.files?.[0];
                    e.target.value = "";
                    if (f) void upload(index, f);
                  }}
                />
              </label>
              {blob || file ? (
                <button type="button" className="button button-small button-ghost" onClick={() => update(index, { blob: null, file: null })}>
                  Use the port only
                </button>
              ) : null}
            </div>
            {portProblem ? <p className="field-message">{portProblem}</p> : null}
          </div>
        );
      })}
      {error ? <p className="field-message">{error}</p> : null}
      <button type="button" className="button button-small" disabled={references.length >= max} data-testid="reference-add" onClick={add}>
        Add reference
      </button>
      {references.length >= max ? <p className="field-hint">This model takes at most {max} references.</p> : null}
    </fieldset>
  );
}
