// The selected node's data from the last run shown on the canvas: its inputs and outputs
// side by side (as n8n does), and "Run to here" — run the flow up to this node only.
import { memo } from "react";
import type { JsonValue, NodeRunRecord, RunDetail } from "../api/types";
import { formatDuration } from "../lib/format";
import { isRunImage } from "../lib/images";

function Value({ value }: { value: JsonValue }) {
  if (isRunImage(value)) {
    const meta = (value as { $image?: { width?: number; height?: number } }).$image;
    const url = typeof value.url === "string" ? value.url : null;
    return (
      <figure className="inspector-image">
        {url ? <img src={url} alt="" loading="lazy" /> : null}
        {meta?.width ? (
          <figcaption className="muted small">
            {meta.width} × {meta.height}
          </figcaption>
        ) : null}
      </figure>
    );
  }
  if (Array.isArray(value) && value.some(isRunImage))
    return (
      <div className="inspector-images">
        {value.map((v, i) => (
          <Value key={i} value={v} />
        ))}
      </div>
    );
  if (typeof value === "string") return <pre className="inspector-text">{value}</pre>;
  return <pre className="inspector-text">{JSON.stringify(value, null, 2)}</pre>;
}

function Ports({ title, values, testId }: { title: string; values: JsonValue; testId: string }) {
  const entries = values && typeof values === "object" && !Array.isArray(values) ? Object.entries(values) : [];
  return (
    <section className="inspector-side" data-testid={testId}>
      <h3>{title}</h3>
      {entries.length === 0 ? <p className="muted small">none</p> : null}
      <dl>
        {entries.map(([name, value]) => (
          <div key={name} className="inspector-port" data-port={name}>
            <dt>
              <code>{name}</code>
            </dt>
            <dd>
              <Value value={value} />
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

interface InspectorProps {
  nodeId: string;
  detail: RunDetail | null;
  running: boolean;
  onRunToHere: (nodeId: string) => void;
  /** "Run to here" reuses unchanged outputs of the nodes before it (off: all fresh). */
  reuse: boolean;
  onReuse: (reuse: boolean) => void;
}

function NodeInspectorView({ nodeId, detail, running, onRunToHere, reuse, onReuse }: InspectorProps) {
  const record: NodeRunRecord | undefined = detail?.nodes?.find((n) => n.node_id === nodeId);
  return (
    <div className="node-inspector" data-testid="node-inspector">
      <div className="inspector-actions">
        <button type="button" className="button button-small" disabled={running} data-testid="run-to-here" onClick={() => onRunToHere(nodeId)}>
          ▶ Run to here
        </button>
        <span className="muted small">runs {nodeId} and only the nodes it needs</span>
      </div>
      <label className="inspector-reuse small">
        <input type="checkbox" checked={reuse} data-testid="run-to-here-reuse" onChange={(e) => onReuse(e.target.checked)} /> Reuse unchanged outputs (the nodes before it are not computed again)
      </label>
      {!record ? (
        <p className="muted" data-testid="inspector-empty">
          {running
            ? "Running: the data shows when the run has finished."
            : detail
              ? `${nodeId} did not run in the run shown.`
              : "No run shown yet: run the flow, or run to here, to see this node's data."}
        </p>
      ) : (
        <>
          <p className="small" data-testid="inspector-summary">
            <span className={`status status-${record.status}`}>{record.cache_hit ? "↺ cached" : record.status}</span>{" "}
            <span className="muted">
              in run {detail!.id.slice(0, 8)} · {formatDuration(record.duration_ms)}
            </span>
          </p>
          {record.error ? (
            <p className="error-note">
              {record.error_port ? <strong>{record.error_port}: </strong> : null}
              {record.error}
            </p>
          ) : null}
          <div className="inspector-columns">
            <Ports title="Input" values={record.inputs} testId="inspector-inputs" />
            <Ports title="Output" values={record.outputs} testId="inspector-outputs" />
          </div>
        </>
      )}
    </div>
  );
}

export const NodeInspector = memo(NodeInspectorView);
