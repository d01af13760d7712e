// Past runs (with thumbnails) and saved versions: diff two, restore one, publish one (rollback).
import { useCallback, useEffect, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { FlowDiff, JsonValue, RunSummary, VersionSummary } from "../api/types";
import { ErrorNote } from "../components/Form";
import { Spinner } from "../components/Spinner";
import { formatCost, formatDate, formatDuration } from "../lib/format";
import { thumbnailUrl } from "../lib/images";

type Tab = "runs" | "versions";

export function HistoryPanel({
  flowId,
  publishedVersion,
  refreshKey,
  activeRunId,
  onShowRun,
  onRestore,
  onPublishVersion,
}: {
  flowId: string;
  publishedVersion: number | null;
  refreshKey: number;
  activeRunId: string | null;
  onShowRun: (runId: string) => void;
  onRestore: (version: number) => Promise<void>;
  onPublishVersion: (version: number) => Promise<void>;
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
    <ul className="run-list" data-testid="run-list">
      {runs.map((r) => {
        const thumb = thumbnailUrl(r.thumbnail);
        return (
          <li key={r.id}>
            <button
              type="button"
              className={r.id === activeRunId ? "run-item active" : "run-item"}
              data-testid={`run-item-${r.id}`}
              onClick={() => onShowRun(r.id)}
            >
              {thumb ? <img src={thumb} alt="" className="run-thumb" loading="lazy" /> : <span className="run-thumb run-thumb-empty" aria-hidden="true" />}
              <span className="run-item-text">
                <span>
                  <span className={`status status-${r.status}`}>{r.status}</span> <span className="muted small">{r.source}</span>
                  {r.backend === "preview" ? <span className="badge badge-warn">preview</span> : null}
                </span>
                <span className="muted small">
                  {formatDate(r.created_at)} · {formatDuration(r.duration_ms)} · {formatCost(r.cost_usd)}
                </span>
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
  );
}

function VersionList({
  flowId,
  refreshKey,
  publishedVersion,
  onRestore,
  onPublishVersion,
}: {
  flowId: string;
  refreshKey: number;
  publishedVersion: number | null;
  onRestore: (version: number) => Promise<void>;
  onPublishVersion: (version: number) => Promise<void>;
}) {
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

  if (!versions) return error ? <ErrorNote message={error} /> : <Spinner />;
  return (
    <div className="version-list-wrap">
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
              {v.number !== publishedVersion ? (
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
