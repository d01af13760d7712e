// A model's lifecycle and this key's access, beside the Image node's model choice:
// a deprecated model runs, with a badge, its dates and a one-click switch to its
// successor; a shut-down one is refused by validation (the switch fixes it); a model
// the server's key does not list is flagged before anyone pays for a failing call.
import type { JsonObject, JsonValue, ModelCatalog, ModelInfo } from "../api/types";
import { findModel } from "./catalog";

/** `config` moved to `target`, keeping every other setting `target` supports: the ratio
 * and size when it offers them (else its defaults), references up to its limit, and
 * everything else (prompt, modalities, count) as it is. */
export function switchModel(config: JsonObject, target: ModelInfo): JsonObject {
  const kept: JsonObject = { ...config, model: target.id };
  const ratio = config["aspect_ratio"];
  if (typeof ratio === "string" && ratio !== "auto" && !target.aspect_ratios.includes(ratio)) delete kept["aspect_ratio"];
  const size = config["image_size"];
  if (typeof size === "string" && !target.image_sizes.includes(size)) kept["image_size"] = null;
  const refs = config["references"];
  if (Array.isArray(refs) && refs.length > target.max_references) kept["references"] = refs.slice(0, target.max_references) as JsonValue;
  return kept;
}

/** Whether the model dropdown lists `model`: a shut-down one only while it is the node's. */
export function offered(model: ModelInfo, selected: string): boolean {
  return model.lifecycle !== "shut_down" || model.id === selected;
}

/** What the dropdown adds after a model's name and price. */
export function modelNote(model: ModelInfo): string {
  const notes: string[] = [];
  if (model.lifecycle === "deprecated") notes.push(model.shutdown ? `deprecated, shuts down ${model.shutdown}` : "deprecated");
  else if (model.lifecycle === "shut_down") notes.push("shut down");
  else if (model.lifecycle === "preview") notes.push("preview");
  if (model.available === false) notes.push("not available to this key");
  return notes.length ? ` — ${notes.join(", ")}` : "";
}

function lifecycleText(model: ModelInfo): string {
  if (model.lifecycle === "shut_down")
    return `Google shut this model down${model.shutdown ? ` on ${model.shutdown}` : ""}: the flow cannot run until the node uses another model.`;
  const since = model.deprecated ? ` on ${model.deprecated}` : "";
  const until = model.shutdown ? `; Google shuts it down on ${model.shutdown}` : "";
  return `Deprecated by Google${since}${until}. It still runs.`;
}

export function ModelLifecycle({
  model,
  models,
  config,
  onChange,
}: {
  model: ModelInfo;
  models: ModelCatalog;
  config: JsonObject;
  onChange: (next: JsonObject) => void;
}) {
  const retiring = model.lifecycle === "deprecated" || model.lifecycle === "shut_down";
  const successor = model.successor ? findModel(models, model.successor) : undefined;
  const usable = models.models.filter((m) => m.available === true && m.lifecycle !== "shut_down").map((m) => m.id);
  if (!retiring && model.available !== false) return null;
  return (
    <div className="model-lifecycle" data-testid="model-lifecycle">
      {retiring ? (
        <p className="model-lifecycle-line">
          <span className={`badge lifecycle-${model.lifecycle}`} data-testid="model-lifecycle-badge">
            {model.lifecycle === "shut_down" ? `shut down ${model.shutdown ?? ""}` : `deprecated ${model.deprecated ?? ""}`}
          </span>{" "}
          {lifecycleText(model)}
        </p>
      ) : null}
      {model.available === false ? (
        <p className="model-lifecycle-line" data-testid="model-unavailable">
          <span className="badge badge-error">not available</span> This Gemini key's model list does not include{" "}
          <code>{model.id}</code>, so a run would fail before any call.
          {usable.length ? <> Models it can use: {usable.join(", ")}.</> : null}
        </p>
      ) : null}
      {retiring && successor ? (
        <button
          type="button"
          className="button button-small"
          data-testid="model-switch"
          title="Keeps the prompt, references and every setting the successor supports"
          onClick={() => onChange(switchModel(config, successor))}
        >
          Switch to {successor.label}
        </button>
      ) : null}
    </div>
  );
}
