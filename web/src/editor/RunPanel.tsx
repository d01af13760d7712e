// The current run: status, totals, and per node duration, tokens, cost and errors.
import { memo } from "react";
import { formatCost, formatDuration, formatTokens } from "../lib/format";
import type { DockControls } from "./PanelDock";
import type { RunState } from "./useRun";
import { useViewStore, useViewVersion } from "./viewStore";

function RunPanelView({
  run,
  nodeIds,
  onClose,
  onCancel,
  onSelectNode,
  dock,
}: {
  dock?: DockControls;
  run: RunState;
  nodeIds: readonly string[];
  onClose: () => void;
  onCancel: () => void;
  onSelectNode: (id: string) => void;
}) {
  const store = useViewStore();
  useViewVersion();
  const detail = run.detail;
  const rows = nodeIds.map((id) => ({ id, view: store.get(id).run })).filter((r) => r.view);
  const running = run.status === "queued" || run.status === "running" || run.status === "starting";
  const backend = detail?.backend ?? rows.find((r) => r.view?.backend)?.view?.backend ?? null;
  const totalCost = detail?.cost_usd ?? rows.reduce((sum, r) => sum + (r.view?.costUsd ?? 0), 0);
  const cached = rows.filter((r) => r.view?.cacheHit).map((r) => r.id);

  return (
    <section className="run-panel" aria-label="Run" data-testid="run-panel">
      <header className="run-panel-header">
        <h2>
          Run{" "}
          {run.status ? (
            <span className={`status status-${run.status}`} data-testid="run-status" data-status={run.status}>
              {run.status}
            </span>
          ) : null}
          {backend === "preview" ? <span className="badge badge-warn">preview</span> : null}
        </h2>
        <dl className="run-totals">
          <div>
            <dt>Duration</dt>
            <dd data-testid="run-duration">{formatDuration(detail?.duration_ms)}</dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd>{formatTokens(detail?.input_tokens, detail?.output_tokens)}</dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd data-testid="run-cost">{formatCost(totalCost)}</dd>
          </div>
        </dl>
        <div className="button-row">
          {running && run.runId ? (
            <button type="button" className="button button-small" onClick={onCancel}>
              Cancel run
            </button>
          ) : null}
          {dock ? (
            <button
              type="button"
              className="icon-button"
              aria-expanded={!dock.collapsed}
              aria-label={dock.collapsed ? "Expand the run panel" : "Collapse the run panel"}
              data-testid="run-panel-collapse"
              onClick={dock.toggle}
            >
              {dock.collapsed ? "▴" : "▾"}
            </button>
          ) : null}
          <button type="button" className="icon-button" aria-label="Close the run panel" onClick={onClose}>
            ×
          </button>
        </div>
      </header>
      {run.error ? (
        <p className="error-note" role="alert" data-testid="run-error">
          {run.failedNode ? (
            <>
              <strong>{run.failedNode}</strong>:{" "}
            </>
          ) : null}
          {run.error}
        </p>
      ) : null}
      {cached.length ? (
        <p className="cached-note" data-testid="run-cached-note">
          ↺ {cached.length === 1 ? "1 node" : `${cached.length} nodes`} reused cached outputs (not computed again, not
          billed): {cached.join(", ")}
        </p>
      ) : null}
      <div className="run-table-wrap">
        <table className="table table-compact" data-testid="run-nodes">
          <thead>
            <tr>
              <th scope="col">Node</th>
              <th scope="col">Status</th>
              <th scope="col">Duration</th>
              <th scope="col">Tokens</th>
              <th scope="col">Cost</th>
              <th scope="col">Detail</th>
            </tr>
          </thead>
          <tbody>
            {rows.map(({ id, view }) =>
              view ? (
                <tr key={id} data-testid={`run-node-${id}`}>
                  <td>
                    <button type="button" className="link-button" onClick={() => onSelectNode(id)}>
                      {id}
                    </button>
                  </td>
                  <td>
                    <span className={`status status-${view.status}`} data-testid={`run-node-status-${id}`}>
                      {view.status === "cached" ? "↺ cached" : view.status}
                    </span>
                  </td>
                  <td>{formatDuration(view.durationMs)}</td>
                  <td>{formatTokens(view.inputTokens, view.outputTokens)}</td>
                  <td>{formatCost(view.costUsd)}</td>
                  <td className="run-detail-cell">
                    {view.error ? (
                      <span className="text-error">
                        {view.errorPort ? `${view.errorPort}: ` : ""}
                        {view.error}
                      </span>
                    ) : view.reason ? (
                      <span className="muted">{view.reason}</span>
                    ) : view.backend ? (
                      <span className="muted">
                        {view.backend}
                        {view.cacheHit ? " · cache hit" : ""}
                      </span>
                    ) : null}
                  </td>
                </tr>
              ) : null,
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export const RunPanel = memo(RunPanelView);
