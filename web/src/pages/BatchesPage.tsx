// A flow's batches: upload rows (CSV/JSONL + images), see the estimate and confirm, follow
// progress live (SSE `/api/batches/{id}/events`), read each row, retry failed rows, download.
import { useCallback, useEffect, useRef, useState, type FormEvent } from "react";
import { api, ApiError, errorMessage } from "../api/client";
import type { BatchDetail, BatchEstimateAnswer, BatchSummary, FlowDetail, Problem } from "../api/types";
import { ErrorNote } from "../components/Form";
import { useToast } from "../components/Toast";
import { formatCost, formatDate, formatDuration } from "../lib/format";
import { linkHandler } from "../lib/router";

export function BatchesPage({ flowId }: { flowId: string }) {
  const [flow, setFlow] = useState<FlowDetail | null>(null);
  const [batches, setBatches] = useState<BatchSummary[]>([]);
  const [selected, setSelected] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setBatches(await api.listBatches(flowId));
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [flowId]);

  useEffect(() => {
    api.getFlow(flowId).then(setFlow, (e: unknown) => setError(errorMessage(e)));
    void refresh();
  }, [flowId, refresh]);

  return (
    <div className="batches" data-testid="batches-page">
      <p>
        <a href={`/flows/${flowId}`} onClick={linkHandler(`/flows/${flowId}`)}>
          ← {flow?.name ?? "Back to the flow"}
        </a>
      </p>
      <h1>Batches</h1>
      <p className="muted">
        Run this flow once per row of a CSV or JSON Lines file. Columns are the HTTP Trigger’s fields; an image column
        holds an http(s) URL or the name of an image file you add below.
      </p>
      {error ? <ErrorNote message={error} /> : null}
      <NewBatch
        flowId={flowId}
        version={flow?.version ?? null}
        onStarted={(batch) => {
          setSelected(batch.id);
          void refresh();
        }}
      />
      <BatchList batches={batches} selected={selected} onSelect={setSelected} />
      {selected ? <BatchView key={selected} batchId={selected} onChanged={refresh} /> : null}
    </div>
  );
}

function NewBatch({ flowId, version, onStarted }: { flowId: string; version: number | null; onStarted: (b: BatchSummary) => void }) {
  const toast = useToast();
  const rowsInput = useRef<HTMLInputElement>(null);
  const filesInput = useRef<HTMLInputElement>(null);
  const [budget, setBudget] = useState("");
  const [concurrency, setConcurrency] = useState("8");
  const [estimate, setEstimate] = useState<BatchEstimateAnswer | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  function form(): FormData | null {
    const rows = rowsInput.current?.files?.[0];
    if (!rows) {
      setError("Choose a rows file (.csv or .jsonl) first.");
      return null;
    }
    const data = new FormData();
    data.append("rows", rows);
    for (const file of Array.from(filesInput.current?.files ?? [])) data.append("files", file);
    if (version !== null) data.append("version", String(version));
    return data;
  }

  function failed(e: unknown) {
    setEstimate(null);
    setError(errorMessage(e));
    setProblems(e instanceof ApiError ? e.problems.filter((p) => p.row !== undefined) : []);
  }

  async function check(event: FormEvent) {
    event.preventDefault();
    const data = form();
    if (!data) return;
    setBusy(true);
    setError(null);
    setProblems([]);
    try {
      setEstimate(await api.estimateBatch(flowId, data));
    } catch (e) {
      failed(e);
    } finally {
      setBusy(false);
    }
  }

  async function start() {
    const data = form();
    if (!data || !estimate) return;
    data.append("confirm_usd", String(estimate.estimate.total_usd));
    if (budget.trim()) data.append("budget_usd", budget.trim());
    data.append("concurrency", concurrency);
    setBusy(true);
    try {
      const batch = await api.createBatch(flowId, data);
      setEstimate(null);
      toast.show(`Batch started: ${batch.total_rows} rows`, "success");
      onStarted(batch);
    } catch (e) {
      failed(e);
    } finally {
      setBusy(false);
    }
  }

  const cost = estimate?.estimate;
  return (
    <section className="panel-section" aria-labelledby="new-batch-title" data-testid="new-batch">
      <h2 id="new-batch-title">New batch{version !== null ? ` of version ${version}` : ""}</h2>
      <form className="batch-form" onSubmit={check}>
        <label className="field">
          <span className="field-label">Rows (.csv or .jsonl)</span>
          <input ref={rowsInput} type="file" accept=".csv,.jsonl,.ndjson" data-testid="batch-rows" onChange={() => setEstimate(null)} />
        </label>
        <label className="field">
          <span className="field-label">Images named in the rows (optional)</span>
          <input ref={filesInput} type="file" accept="image/png,image/jpeg,image/webp,image/heic,image/heif" multiple data-testid="batch-files" onChange={() => setEstimate(null)} />
        </label>
        <label className="field">
          <span className="field-label">Budget, USD (optional)</span>
          <input type="number" min="0" step="0.01" value={budget} onChange={(e) => setBudget(e.target.value)} data-testid="batch-budget" />
        </label>
        <label className="field">
          <span className="field-label">Rows at once</span>
          <input type="number" min="1" max="64" value={concurrency} onChange={(e) => setConcurrency(e.target.value)} data-testid="batch-concurrency" />
        </label>
        <div className="button-row">
          <button type="submit" className="button" disabled={busy} data-testid="batch-estimate">
            Check rows and estimate
          </button>
        </div>
      </form>
      {error ? <ErrorNote message={error} /> : null}
      {problems.length ? (
        <table className="table table-compact" data-testid="batch-problems">
          <thead>
            <tr>
              <th scope="col">Row</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {problems.map((p, i) => (
              <tr key={i}>
                <td>{p.row}</td>
                <td>{p.field ?? "—"}</td>
                <td>{p.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {cost ? (
        <div className="batch-estimate" data-testid="batch-estimate-result">
          <pre>{cost.description}</pre>
          <button type="button" className="button button-primary" disabled={busy} onClick={() => void start()} data-testid="batch-start">
            {cost.total_usd > 0 ? `Start ${cost.rows} rows for about ${formatCost(cost.total_usd)}` : `Start ${cost.rows} rows (free)`}
          </button>
        </div>
      ) : null}
    </section>
  );
}

function BatchList({ batches, selected, onSelect }: { batches: BatchSummary[]; selected: string | null; onSelect: (id: string) => void }) {
  if (!batches.length) return <p className="muted">No batches of this flow yet.</p>;
  return (
    <table className="table table-compact" data-testid="batch-list">
      <thead>
        <tr>
          <th scope="col">Started</th>
          <th scope="col">Rows file</th>
          <th scope="col">State</th>
          <th scope="col">Done</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {batches.map((b) => (
          <tr key={b.id} className={b.id === selected ? "selected" : undefined}>
            <td>
              <button type="button" className="link-button" onClick={() => onSelect(b.id)}>
                {formatDate(b.created_at)}
              </button>
            </td>
            <td>{b.rows_file}</td>
            <td>{b.state}</td>
            <td>
              {b.settled} / {b.total_rows}
            </td>
            <td>{formatCost(b.cost_usd)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One batch: live progress while it runs, then its rows. */
function BatchView({ batchId, onChanged }: { batchId: string; onChanged: () => void }) {
  const toast = useToast();
  const [batch, setBatch] = useState<BatchDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [following, setFollowing] = useState(0);

  const load = useCallback(async () => {
    try {
      setBatch(await api.getBatch(batchId));
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [batchId]);

  useEffect(() => {
    const source = new EventSource(api.batchEventsUrl(batchId), { withCredentials: true });
    let loading = false;
    source.onmessage = (message) => {
      const summary = JSON.parse(message.data as string) as BatchSummary;
      setBatch((old) => ({ rows: [], ...old, ...summary }));
      if (!summary.active) {
        source.close();
        void load().then(onChanged);
      } else if (!loading) {
        loading = true;
        void load().finally(() => (loading = false));
      }
    };
    source.onerror = () => {
      // The server ends a stream now and then (EventSource reconnects); CLOSED means it gave up.
      if (source.readyState === EventSource.CLOSED) void load();
    };
    return () => source.close();
  }, [batchId, following, load, onChanged]);

  async function retry() {
    if (!batch) return;
    const failedCount = batch.counts.failed;
    const price = (batch.estimate_usd ?? 0) / Math.max(batch.total_rows, 1);
    const confirmUsd = price * failedCount;
    if (confirmUsd > 0 && !window.confirm(`Run ${failedCount} failed rows again for about ${formatCost(confirmUsd)}?`)) return;
    try {
      await api.retryBatch(batchId, confirmUsd * 1.000001);
      setFollowing((n) => n + 1);
    } catch (e) {
      toast.show(errorMessage(e), "error");
    }
  }

  async function cancel() {
    try {
      await api.cancelBatch(batchId);
    } catch (e) {
      toast.show(errorMessage(e), "error");
    }
  }

  if (error) return <ErrorNote message={error} />;
  if (!batch) return null;
  const { counts } = batch;
  const percent = batch.total_rows ? Math.round((100 * batch.settled) / batch.total_rows) : 100;
  return (
    <section className="panel-section batch-view" aria-label="Batch" data-testid="batch-view" data-state={batch.state ?? ""}>
      <h2>
        Batch {batch.id.slice(0, 8)}{" "}
        <span className={`status status-${batch.state === "finished" ? "succeeded" : batch.state ?? "running"}`} data-testid="batch-state">
          {batch.state}
        </span>
      </h2>
      <div
        className="progress"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={batch.total_rows}
        aria-valuenow={batch.settled}
        aria-label="Rows settled"
        data-testid="batch-progress"
      >
        <div className="progress-done" style={{ width: `${(100 * counts.succeeded) / Math.max(batch.total_rows, 1)}%` }} />
        <div className="progress-failed" style={{ width: `${(100 * (counts.failed + counts.skipped)) / Math.max(batch.total_rows, 1)}%` }} />
      </div>
      <dl className="run-totals batch-totals">
        <div>
          <dt>Done</dt>
          <dd data-testid="batch-done">
            {counts.succeeded} / {batch.total_rows} ({percent}%)
          </dd>
        </div>
        <div>
          <dt>Failed</dt>
          <dd data-testid="batch-failed">{counts.failed}</dd>
        </div>
        <div>
          <dt>Skipped</dt>
          <dd>{counts.skipped}</dd>
        </div>
        <div>
          <dt>Cost</dt>
          <dd data-testid="batch-cost">
            {formatCost(batch.cost_usd)}
            {batch.budget_usd !== null ? ` of ${formatCost(batch.budget_usd)}` : ""}
          </dd>
        </div>
        <div>
          <dt>ETA</dt>
          <dd>{batch.active && batch.eta_seconds !== null ? formatDuration(batch.eta_seconds * 1000) : "—"}</dd>
        </div>
      </dl>
      <div className="button-row">
        {batch.active ? (
          <button type="button" className="button button-small" onClick={() => void cancel()} data-testid="batch-cancel">
            Cancel batch
          </button>
        ) : null}
        {!batch.active && counts.failed > 0 ? (
          <button type="button" className="button button-small" onClick={() => void retry()} data-testid="batch-retry">
            Retry {counts.failed} failed
          </button>
        ) : null}
        <a className="button button-small" href={api.batchZipUrl(batch.id)} download data-testid="batch-download">
          Download ZIP
        </a>
      </div>
      <table className="table table-compact" data-testid="batch-rows-table">
        <thead>
          <tr>
            <th scope="col">Row</th>
            <th scope="col">Inputs</th>
            <th scope="col">Status</th>
            <th scope="col">Cost</th>
            <th scope="col">Error</th>
          </tr>
        </thead>
        <tbody>
          {batch.rows.map((row) => (
            <tr key={row.number} data-testid={`batch-row-${row.number}`}>
              <td>{row.number}</td>
              <td className="batch-inputs">{JSON.stringify(row.given)}</td>
              <td>
                <span className={`status status-${row.status}`} data-status={row.status}>
                  {row.status}
                </span>
              </td>
              <td>{formatCost(row.cost_usd)}</td>
              <td className="text-error">{row.error ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {batch.rows.length < batch.total_rows ? <p className="muted">The first {batch.rows.length} rows are shown.</p> : null}
    </section>
  );
}
