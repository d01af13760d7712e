// Past runs (with thumbnails) and saved versions: diff two, restore one, publish one (rollback).
// An old run opens read-only with the document it ran; only the run in progress paints the canvas.
import { useCallback, useEffect, useId, useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import type { FlowDiff, JsonValue, RunDetail, RunDocument, RunSummary, VersionSummary } from "../api/types";
import { ErrorNote } from "../components/Form";
import { Modal } from "../components/Modal";
import { Spinner } from "../components/Spinner";
import { formatCost, formatDate, formatDuration, problemText } from "../lib/format";
import { isRunImage, thumbnailUrl } from "../lib/images";

type Tab = "runs" | "versions";

export function HistoryPanel({
  flowId,
  publishedVersion,
  refreshKey,
  activeRunId,
  onShowRun,
  onRestore,
  onPublishVersion,
  onSaveVersion,
}: {
  flowId: string;
  publishedVersion: number | null;
  refreshKey: number;
  activeRunId: string | null;
  /** Shows the run on the canvas: only for the run started from this draft. */
  onShowRun: (runId: string) => void;
  onRestore: (version: number) => Promise<void>;
  onPublishVersion: (version: number) => Promise<void>;
  /** Saves the draft as a new version with a message; null when nothing was saved. */
  onSaveVersion?: (message: string) => Promise<number | null>;
}) {
  const [tab, setTab] = useState<Tab>("runs");
  return (
    <div className="history-panel" data-testid="history-panel">
      <div className="tabs" role="tablist" aria-label="History">
        <button type="button" role="tab" aria-selected={tab === "runs"} className="tab" data-testid="history-tab-runs" onClick={() => setTab("runs")}>
          Runs
        </button>
        <button
          type="button"
          role="tab"
          aria-selected={tab === "versions"}
          className="tab"
          data-testid="history-tab-versions"
          onClick={() => setTab("versions")}
        >
          Versions
        </button>
      </div>
      {tab === "runs" ? (
        <RunList flowId={flowId} refreshKey={refreshKey} activeRunId={activeRunId} onShowRun={onShowRun} />
      ) : (
        <VersionList
          flowId={flowId}
          refreshKey={refreshKey}
          publishedVersion={publishedVersion}
          onRestore={onRestore}
          onPublishVersion={onPublishVersion}
          onSaveVersion={onSaveVersion}
        />
      )}
    </div>
  );
}

function RunList({
  flowId,
  refreshKey,
  activeRunId,
  onShowRun,
}: {
  flowId: string;
  refreshKey: number;
  activeRunId: string | null;
  onShowRun: (runId: string) => void;
}) {
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [opened, setOpened] = useState<string | null>(null);

  useEffect(() => {
    api.listRuns(flowId, 50).then(
      (list) => {
        setRuns(list);
        setError(null);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [flowId, refreshKey, activeRunId]);

  if (error) return <ErrorNote message={error} />;
  if (!runs) return <Spinner />;
  if (runs.length === 0) return <p className="muted small pad">No runs yet. Press Run to try the flow.</p>;
  return (
    <>
    <ul className="run-list" data-testid="run-list">
      {runs.map((r) => {
        const thumb = thumbnailUrl(r.thumbnail);
        return (
          <li key={r.id}>
            <button
              type="button"
              className={r.id === activeRunId ? "run-item active" : "run-item"}
              data-testid={`run-item-${r.id}`}
              title={r.id === activeRunId ? "Show this run on the canvas" : "Open this run with the version it ran (read-only)"}
              onClick={() => (r.id === activeRunId ? onShowRun(r.id) : setOpened(r.id))}
            >
              {thumb ? <img src={thumb} alt="" className="run-thumb" loading="lazy" /> : <span className="run-thumb run-thumb-empty" aria-hidden="true" />}
              <span className="run-item-text">
                <span>
                  <span className={`status status-${r.status}`}>{r.status}</span>{" "}
                  <span className="muted small" data-testid={`run-item-${r.id}-origin`}>
                    {versionLabel(r.flow_version)} · {r.source}
                  </span>
                  {r.backend === "preview" ? <span className="badge badge-warn">preview</span> : null}
                </span>
                <span className="muted small">
                  {formatDate(r.created_at)} · {formatDuration(r.duration_ms)} · {formatCost(r.cost_usd)}
                </span>
                {inputsLine(r.inputs) ? (
                  <span className="small run-item-inputs" data-testid={`run-item-${r.id}-inputs`}>
                    {inputsLine(r.inputs)}
                  </span>
                ) : null}
                {r.error ? (
                  <span className="text-error small">
                    {r.failed_node ? `${r.failed_node}: ` : ""}
                    {r.error}
                  </span>
                ) : null}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
    {opened ? <RunRecord runId={opened} onClose={() => setOpened(null)} /> : null}
    </>
  );
}

function versionLabel(version: number | null | undefined): string {
  return version ? `v${version}` : "draft";
}

/** `prompt: "a cat" · count: 2`: a run's inputs on one line (images as [image]). */
function inputsLine(inputs: JsonValue | undefined): string {
  if (!inputs || typeof inputs !== "object" || Array.isArray(inputs)) return "";
  return Object.entries(inputs)
    .map(([name, value]) => `${name}: ${isRunImage(value) ? "[image]" : show(value)}`)
    .join(" · ");
}

/** A past run, read-only, with the document it ran: never painted onto the current draft. */
function RunRecord({ runId, onClose }: { runId: string; onClose: () => void }) {
  const [detail, setDetail] = useState<RunDetail | null>(null);
  const [ran, setRan] = useState<RunDocument | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([api.getRun(runId), api.runDocument(runId)]).then(
      ([d, r]) => {
        setDetail(d);
        setRan(r);
      },
      (e: unknown) => setError(errorMessage(e)),
    );
  }, [runId]);

  const labels = new Map((ran?.document?.nodes ?? []).map((n) => [n.id, n.label || n.id]));
  const inputs = detail && detail.inputs && typeof detail.inputs === "object" && !Array.isArray(detail.inputs) ? Object.entries(detail.inputs) : [];
  return (
    <Modal title="Past run (read-only)" onClose={onClose} wide testId="run-record">
      {error ? <ErrorNote message={error} /> : null}
      {!detail || !ran ? (
        !error ? <Spinner /> : null
      ) : (
        <div className="run-record">
          <p data-testid="run-record-version">
            {ran.flow_version
              ? `Ran version v${ran.flow_version} of this flow`
              : "Ran an unsaved draft (not a saved version)"}{" "}
            · {detail.source} · <span className={`status status-${detail.status}`}>{detail.status}</span> · {formatDate(detail.created_at)}
          </p>
          <p className="muted small">
            This is the run's own version, not your draft: the canvas is unchanged.
            {ran.document ? ` It had ${ran.document.nodes.length} nodes.` : ""}
          </p>
          <h3 className="section-title">Inputs</h3>
          {inputs.length === 0 ? <p className="muted small">None.</p> : null}
          <dl className="run-record-inputs" data-testid="run-record-inputs">
            {inputs.map(([name, value]) => (
              <div key={name}>
                <dt>{name}</dt>
                <dd>{isRunImage(value) && typeof value.url === "string" ? <img className="reference-thumb" src={value.url} alt={name} /> : show(value)}</dd>
              </div>
            ))}
          </dl>
          <h3 className="section-title">Nodes</h3>
          <ul className="run-record-nodes" data-testid="run-record-nodes">
            {detail.nodes.map((n) => (
              <li key={n.node_id} data-testid={`run-record-node-${n.node_id}`}>
                <strong>{labels.get(n.node_id) ?? n.node_id}</strong> <span className="muted small">{n.node_type}</span>{" "}
                <span className={`status status-${n.status}`}>{n.cache_hit ? "reused" : n.status}</span>
                {n.error ? <span className="text-error small"> {n.error}</span> : null}
                <RecordOutputs outputs={n.outputs} />
              </li>
            ))}
          </ul>
        </div>
      )}
    </Modal>
  );
}

function RecordOutputs({ outputs }: { outputs: JsonValue }) {
  if (!outputs || typeof outputs !== "object" || Array.isArray(outputs)) return null;
  return (
    <div className="run-record-outputs">
      {Object.entries(outputs).map(([port, value]) =>
        isRunImage(value) && typeof value.url === "string" ? (
          <img key={port} className="run-thumb" src={value.url} alt={port} title={port} />
        ) : Array.isArray(value) ? null : (
          <span key={port} className="small">
            {port}: {show(value)}{" "}
          </span>
        ),
      )}
    </div>
  );
}

function VersionList({
  flowId,
  refreshKey,
  publishedVersion,
  onRestore,
  onPublishVersion,
  onSaveVersion,
}: {
  flowId: string;
  refreshKey: number;
  publishedVersion: number | null;
  onRestore: (version: number) => Promise<void>;
  onPublishVersion: (version: number) => Promise<void>;
  onSaveVersion?: (message: string) => Promise<number | null>;
}) {
  const [message, setMessage] = useState("");
  const messageId = useId();
  const [versions, setVersions] = useState<VersionSummary[] | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const [diff, setDiff] = useState<FlowDiff | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  const load = useCallback(async () => {
    try {
      setVersions(await api.listVersions(flowId));
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [flowId]);

  useEffect(() => {
    void load();
  }, [load, refreshKey]);

  useEffect(() => {
    if (picked.length !== 2) {
      setDiff(null);
      return;
    }
    const [a, b] = [...picked].sort((x, y) => x - y) as [number, number];
    api.diff(flowId, a, b).then(setDiff, (e: unknown) => setError(errorMessage(e)));
  }, [flowId, picked]);

  function toggle(n: number) {
    setPicked((list) => (list.includes(n) ? list.filter((x) => x !== n) : [...list, n].slice(-2)));
  }

  async function act(n: number, fn: (n: number) => Promise<void>) {
    setBusy(n);
    try {
      await fn(n);
      await load();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  }

  async function saveWithMessage(event: FormEvent) {
    event.preventDefault();
    if (!onSaveVersion) return;
    const saved = await onSaveVersion(message.trim());
    if (saved !== null) {
      setMessage("");
      await load();
    }
  }

  if (!versions) return error ? <ErrorNote message={error} /> : <Spinner />;
  return (
    <div className="version-list-wrap">
      {onSaveVersion ? (
        <form className="version-save pad" onSubmit={(e) => void saveWithMessage(e)}>
          <label className="field-label" htmlFor={messageId}>
            Save the draft as a version
          </label>
          <input
            id={messageId}
            type="text"
            maxLength={500}
            placeholder="What changed (optional)"
            value={message}
            data-testid="version-message"
            onChange={(e) => setMessage(e.target.value)}
          />
          <button type="submit" className="button button-small" data-testid="version-save">
            Save version
          </button>
        </form>
      ) : null}
      <p className="muted small pad">Tick two versions to compare them.</p>
      <ErrorNote message={error} />
      <ul className="version-list" data-testid="version-list">
        {versions.map((v, index) => (
          <li key={v.number} className="version-item" data-testid={`version-${v.number}`}>
            <label className="check">
              <input type="checkbox" checked={picked.includes(v.number)} onChange={() => toggle(v.number)} aria-label={`Compare version ${v.number}`} />
              <strong>v{v.number}</strong>
            </label>
            <span className="version-meta muted small">
              {formatDate(v.created_at)}
              {v.created_by ? ` · ${v.created_by}` : ""} · <code>{v.hash.slice(0, 8)}</code>
            </span>
            {v.message ? (
              <span className="version-message small" data-testid={`version-${v.number}-message`}>
                {v.message}
              </span>
            ) : null}
            {v.publishable === false ? (
              <span className="version-problems small muted" data-testid={`version-${v.number}-unpublishable`} title={(v.problems ?? []).map(problemText).join("\n")}>
                cannot be published: {(v.problems ?? []).map(problemText).join("; ")}
              </span>
            ) : null}
            <span className="version-badges">
              {index === 0 ? <span className="badge">latest</span> : null}
              {v.number === publishedVersion ? <span className="badge badge-ok" data-testid={`version-${v.number}-published`}>published</span> : null}
            </span>
            <span className="version-actions">
              {index !== 0 ? (
                <button
                  type="button"
                  className="button button-small button-ghost"
                  disabled={busy !== null}
                  data-testid={`version-${v.number}-restore`}
                  onClick={() => void act(v.number, onRestore)}
                >
                  Restore
                </button>
              ) : null}
              {v.number !== publishedVersion && v.publishable !== false ? (
                <button
                  type="button"
                  className="button button-small button-ghost"
                  disabled={busy !== null}
                  data-testid={`version-${v.number}-publish`}
                  onClick={() => void act(v.number, onPublishVersion)}
                >
                  {publishedVersion !== null && v.number < publishedVersion ? "Roll back to this" : "Publish this"}
                </button>
              ) : null}
            </span>
          </li>
        ))}
      </ul>
      {diff ? <DiffView diff={diff} /> : null}
    </div>
  );
}

function show(value: JsonValue): string {
  if (value === undefined) return "—";
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}…` : text;
}

function DiffView({ diff }: { diff: FlowDiff }) {
  const empty =
    !diff.nodes.added.length && !diff.nodes.removed.length && !diff.nodes.changed.length && !diff.edges.added.length && !diff.edges.removed.length;
  return (
    <section className="diff" aria-label={`Changes from v${diff.a} to v${diff.b}`} data-testid="version-diff">
      <h3>
        v{diff.a} → v{diff.b}
      </h3>
      {empty ? <p className="muted small">No differences in nodes or edges.</p> : null}
      <ul className="diff-list">
        {diff.nodes.added.map((id) => (
          <li key={`na-${id}`} className="diff-add">
            + node <code>{id}</code>
          </li>
        ))}
        {diff.nodes.removed.map((id) => (
          <li key={`nr-${id}`} className="diff-remove">
            − node <code>{id}</code>
          </li>
        ))}
        {diff.nodes.changed.map((c) => (
          <li key={`nc-${c.id}`} className="diff-change">
            ~ node <code>{c.id}</code>
            <ul>
              {c.changes.map((ch, i) => (
                <li key={i}>
                  <code>{ch.path}</code>: <span className="diff-before">{show(ch.before)}</span> →{" "}
                  <span className="diff-after">{show(ch.after)}</span>
                </li>
              ))}
            </ul>
          </li>
        ))}
        {diff.edges.added.map((e) => (
          <li key={`ea-${e}`} className="diff-add">
            + edge <code>{e}</code>
          </li>
        ))}
        {diff.edges.removed.map((e) => (
          <li key={`er-${e}`} className="diff-remove">
            − edge <code>{e}</code>
          </li>
        ))}
      </ul>
    </section>
  );
}
