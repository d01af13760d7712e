// Test inputs for the trigger's fields, then a run of the draft.
import { useId, useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import type { JsonObject } from "../api/types";
import { ErrorNote } from "../components/Form";
import { Modal } from "../components/Modal";
import { formatCost } from "../lib/format";
import { isObject } from "../lib/schema";
import type { RunCost } from "./runCost";

export interface TriggerInfo {
  id: string;
  fields: JsonObject[];
}

type Values = Record<string, unknown>;

function initialValues(trigger: TriggerInfo | null, remembered: Values): Values {
  const values: Values = {};
  for (const f of trigger?.fields ?? []) {
    const name = String(f["name"]);
    if (name in remembered) values[name] = remembered[name];
    else if (f["default"] !== undefined && f["default"] !== null) values[name] = f["default"];
    else if (f["type"] === "boolean") values[name] = false;
    else if (f["type"] !== "image") values[name] = "";
  }
  return values;
}

export function RunDialog({
  triggers,
  remembered,
  cost,
  upTo = null,
  initialReuse = false,
  onClose,
  onRun,
}: {
  triggers: TriggerInfo[];
  remembered: Values;
  /** What the Image nodes would cost at list price; null when unknown. */
  cost: RunCost;
  /** "Run to here": the node the run stops at (it and the nodes it needs run); null: all. */
  upTo?: string | null;
  /** The reuse toggle's starting state (Run to here's choice; off for a plain Run). */
  initialReuse?: boolean;
  onClose: () => void;
  /** `reuseCache`: reuse unchanged nodes' outputs from earlier runs instead of computing fresh. */
  onRun: (inputs: Values, triggerId: string | undefined, reuseCache: boolean) => Promise<void>;
}) {
  const [triggerId, setTriggerId] = useState(triggers[0]?.id);
  const trigger = triggers.find((t) => t.id === triggerId) ?? null;
  const [values, setValues] = useState<Values>(() => initialValues(trigger, remembered));
  const [previews, setPreviews] = useState<Record<string, string>>({});
  const [uploading, setUploading] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // Off: every Image node makes a new take (like `plait run` without --cache).
  const [reuseCache, setReuseCache] = useState(initialReuse);
  const baseId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const inputs: Values = {};
      for (const f of trigger?.fields ?? []) {
        const name = String(f["name"]);
        const value = values[name];
        if (value === undefined || (value === "" && f["type"] !== "text")) continue;
        if (value === "" && f["required"] === false) continue;
        inputs[name] = value;
      }
      await onRun(inputs, triggers.length > 1 ? triggerId : undefined, reuseCache);
    } catch (e) {
      setError(errorMessage(e));
      setBusy(false);
    }
  }

  async function upload(name: string, file: File) {
    setUploading(name);
    try {
      const answer = await api.upload(file);
      setValues((v) => ({ ...v, [name]: answer.image }));
      setPreviews((p) => ({ ...p, [name]: answer.url }));
    } catch (e) {
      setError(`Upload failed: ${errorMessage(e)}`);
    } finally {
      setUploading(null);
    }
  }

  return (
    <Modal title={upTo ? `Run up to ${upTo}` : "Run with test inputs"} onClose={onClose} testId="run-dialog">
      <form onSubmit={submit}>
        {upTo ? (
          <p className="field-hint run-up-to" data-testid="run-up-to">
            Runs <strong>{upTo}</strong> and the nodes it needs; the nodes after it do not run.
          </p>
        ) : null}
        {triggers.length > 1 ? (
          <div className="field">
            <label className="field-label" htmlFor={`${baseId}-trigger`}>
              Trigger
            </label>
            <select
              id={`${baseId}-trigger`}
              value={triggerId}
              onChange={(e) => {
                setTriggerId(e.target.value);
                setValues(initialValues(triggers.find((t) => t.id === e.target.value) ?? null, remembered));
              }}
            >
              {triggers.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.id}
                </option>
              ))}
            </select>
          </div>
        ) : null}
        {!trigger ? <p className="muted">This flow has no HTTP Trigger: it runs without inputs.</p> : null}
        {trigger && trigger.fields.length === 0 ? <p className="muted">The trigger declares no fields.</p> : null}
        {trigger?.fields.map((f) => {
          const name = String(f["name"]);
          const type = String(f["type"] ?? "text");
          const id = `${baseId}-${name}`;
          const value = values[name];
          const description = typeof f["description"] === "string" && f["description"] ? f["description"] : null;
          const label = (
            <label className="field-label" htmlFor={id}>
              {name} <span className="muted small">({type}{f["required"] === false ? ", optional" : ""})</span>
            </label>
          );
          const testId = `run-input-${name}`;
          if (type === "boolean")
            return (
              <div key={name} className="field field-inline">
                <input id={id} type="checkbox" checked={Boolean(value)} data-testid={testId} onChange={(e) => setValues({ ...values, [name]: e.target.checked })} />
                {label}
              </div>
            );
          if (type === "image") {
            const preview = previews[name];
            return (
              <div key={name} className="field">
                {label}
                {typeof preview === "string" ? <img className="reference-thumb" src={preview} alt={name} /> : null}
                <input
                  id={id}
                  type="file"
                  accept="image/png,image/jpeg,image/webp,image/heic,image/heif"
                  data-testid={testId}
                  onChange={(e) => {
                    const file = e.target.files?.[0];
                    if (file) void upload(name, file);
                  }}
                />
                {uploading === name ? <p className="field-hint">Uploading…</p> : null}
              </div>
            );
          }
          return (
            <div key={name} className="field">
              {label}
              {type === "number" ? (
                <input id={id} type="number" step="any" value={String(value ?? "")} data-testid={testId} onChange={(e) => setValues({ ...values, [name]: e.target.value === "" ? "" : Number(e.target.value) })} />
              ) : (
                <textarea
                  id={id}
                  rows={type === "json" ? 4 : 2}
                  value={typeof value === "string" ? value : JSON.stringify(value ?? "")}
                  data-testid={testId}
                  onChange={(e) => setValues({ ...values, [name]: e.target.value })}
                />
              )}
              {description ? <p className="field-hint">{description}</p> : null}
            </div>
          );
        })}
        <div className="field field-inline">
          <input
            id={`${baseId}-reuse`}
            type="checkbox"
            checked={reuseCache}
            data-testid="run-reuse-cache"
            aria-describedby={`${baseId}-reuse-hint`}
            onChange={(e) => setReuseCache(e.target.checked)}
          />
          <label className="field-label" htmlFor={`${baseId}-reuse`}>
            Reuse unchanged outputs
          </label>
        </div>
        <p className="field-hint" id={`${baseId}-reuse-hint`}>
          {reuseCache
            ? "Nodes whose settings and inputs are unchanged since an earlier run reuse its outputs: not computed again, not billed."
            : "Every node computes fresh: each Image node makes a new take (kept, so a later run can reuse it)."}
        </p>
        <p className="run-cost-estimate small" data-testid="run-cost-estimate">
          {cost.images === 0
            ? "No Image node: this run makes no Gemini call."
            : cost.preview
              ? `Preview mode: ${cost.images === 1 ? "the image is" : `${cost.images} images are`} rendered offline, free.`
              : cost.usd !== null
                ? `About ${formatCost(cost.usd)} for ${cost.images === 1 ? "1 image" : `${cost.images} images`} at list price (reused outputs cost nothing).`
                : `${cost.images === 1 ? "1 image" : `${cost.images} images`} at your Gemini key's price.`}
        </p>
        <ErrorNote message={error} />
        <div className="button-row end">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy || uploading !== null} data-testid="run-submit">
            {busy ? "Starting…" : "Run"}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export function triggersOf(nodes: readonly { id: string; data: { nodeType: string; config: JsonObject } }[]): TriggerInfo[] {
  return nodes
    .filter((n) => n.data.nodeType === "http_trigger")
    .map((n) => {
      const fields = n.data.config["fields"];
      return {
        id: n.id,
        fields: Array.isArray(fields) ? fields.filter(isObject) : [{ name: "prompt", type: "text" }],
      };
    });
}
