// One node on the canvas. Memoized, and subscribed only to its own view entry.
import { Handle, Position, useUpdateNodeInternals, type NodeProps } from "@xyflow/react";
import { memo, useEffect, useMemo } from "react";
import type { JsonObject, Port } from "../api/types";
import type { PlaitNode } from "../lib/flow";
import { formatCost, formatDuration } from "../lib/format";
import { PORT_TYPE_LABEL } from "../lib/ports";
import { findModel, useCatalog } from "./catalog";
import { REF_HANDLE } from "./referenceEdges";
import { useNodeView, type NodeRunView } from "./viewStore";

const STATUS_LABEL: Record<string, string> = {
  pending: "waiting",
  queued: "queued",
  running: "running",
  succeeded: "done",
  failed: "failed",
  cached: "↺ cached",
  skipped: "skipped",
  cancelled: "cancelled",
};

function summary(nodeType: string, config: JsonObject, modelLabel: string | null): string | null {
  const text = (value: unknown) => (typeof value === "string" && value.trim() ? value.trim() : null);
  switch (nodeType) {
    case "image":
      return [modelLabel, text(config["prompt"]) ? `“${text(config["prompt"])}”` : null].filter(Boolean).join(" · ") || null;
    case "text":
      return text(config["template"]);
    case "image_resize": {
      const w = config["width"];
      const h = config["height"];
      return `${w ?? "auto"} × ${h ?? "auto"} · ${String(config["fit"] ?? "contain")}`;
    }
    case "text_overlay": {
      const layers = Array.isArray(config["layers"]) ? config["layers"] : [];
      const first = layers[0] as JsonObject | undefined;
      return first ? `${layers.length} layer${layers.length === 1 ? "" : "s"} · “${String(first["text"] ?? "")}”` : null;
    }
    case "respond":
      return config["mode"] === "image" ? "image bytes" : "JSON body";
    case "image_url":
      return text(config["url"]);
    case "file_input":
      return text(config["path"]) ?? (config["blob"] ? "uploaded image" : null);
    default:
      return null;
  }
}

function PortRow({ nodeId, port, side }: { nodeId: string; port: Port; side: "in" | "out" }) {
  const isIn = side === "in";
  return (
    <div className={`port port-${side}`} title={port.description || undefined}>
      <Handle
        id={port.name}
        type={isIn ? "target" : "source"}
        position={isIn ? Position.Left : Position.Right}
        className={`handle handle-${port.type}`}
        data-testid={`handle-${nodeId}-${side}-${port.name}`}
        aria-label={`${isIn ? "input" : "output"} ${port.name} (${PORT_TYPE_LABEL[port.type]})`}
      />
      <span className="port-name">
        {port.name}
        {isIn && port.required && !port.config_fallback ? <span className="port-required" aria-label="required">*</span> : null}
      </span>
      <span className={`port-type port-type-${port.type}`}>{PORT_TYPE_LABEL[port.type]}</span>
    </div>
  );
}

function RunBadge({ run }: { run: NodeRunView }) {
  return (
    <span
      className={`status status-${run.status}`}
      data-testid="node-status"
      data-status={run.status}
      title={run.status === "cached" ? "Output reused from the cache: not computed again, not billed" : undefined}
    >
      {run.status === "running" ? <span className="pulse" aria-hidden="true" /> : null}
      {STATUS_LABEL[run.status] ?? run.status}
    </span>
  );
}

function FlowNodeView({ id, data, selected }: NodeProps<PlaitNode>) {
  const catalog = useCatalog();
  const view = useNodeView(id);
  const updateInternals = useUpdateNodeInternals();
  const info = catalog.byType.get(data.nodeType);
  const ports = view.ports ?? { inputs: info?.inputs ?? [], outputs: info?.outputs ?? [] };
  const portKey = useMemo(
    () => [...ports.inputs.map((p) => `i:${p.name}`), ...ports.outputs.map((p) => `o:${p.name}`)].join(","),
    [ports],
  );

  // Handles moved or changed: React Flow must measure them again.
  useEffect(() => {
    updateInternals(id);
  }, [id, portKey, updateInternals]);

  const modelLabel = data.nodeType === "image" ? findModel(catalog.models, data.config["model"])?.label ?? null : null;
  const text = summary(data.nodeType, data.config, modelLabel);
  const run = view.run;
  const problems = view.problems;
  const classes = ["plait-node", `category-${(info?.category ?? "other").toLowerCase()}`];
  if (selected) classes.push("selected");
  if (problems.length) classes.push("has-problems");
  if (run) classes.push(`run-${run.status}`);

  return (
    <div className={classes.join(" ")} data-testid={`node-${id}`} data-node-type={data.nodeType}>
      {/* Where the dashed template-reference edges end; not for wiring. */}
      <Handle id={REF_HANDLE} type="target" position={Position.Left} className="handle-ref" isConnectable={false} aria-hidden="true" />
      <div className="node-header">
        <div className="node-titles">
          <span className="node-title">{data.label || info?.title || data.nodeType}</span>
          <span className="node-id">{id}</span>
        </div>
        {run ? <RunBadge run={run} /> : null}
      </div>
      <div className="node-ports">
        <div className="node-inputs">
          {ports.inputs.map((p) => (
            <PortRow key={p.name} nodeId={id} port={p} side="in" />
          ))}
        </div>
        <div className="node-outputs">
          {ports.outputs.map((p) => (
            <PortRow key={p.name} nodeId={id} port={p} side="out" />
          ))}
        </div>
      </div>
      {text ? <p className="node-summary">{text}</p> : null}
      {run?.imageUrl ? (
        <figure className="node-image">
          <img src={run.imageUrl} alt={`Output of ${id}`} loading="lazy" data-testid={`node-image-${id}`} />
          {run.backend === "preview" ? (
            <figcaption className="preview-caption">
              <span className="preview-tag">preview</span> made offline, not by Gemini
            </figcaption>
          ) : null}
        </figure>
      ) : null}
      {run && (run.durationMs !== null || run.costUsd) ? (
        <p className="node-metrics">
          {formatDuration(run.durationMs)}
          {run.costUsd ? ` · ${formatCost(run.costUsd)}` : ""}
          {run.cacheHit ? " · cached" : ""}
        </p>
      ) : null}
      {run?.error ? (
        <p className="node-error" role="alert">
          {run.errorPort ? <strong>{run.errorPort}: </strong> : null}
          {run.error}
        </p>
      ) : null}
      {run?.status === "skipped" && run.reason ? <p className="node-note">{run.reason}</p> : null}
      {problems.length ? (
        <ul className="node-problems" data-testid={`node-problems-${id}`}>
          {problems.slice(0, 3).map((p, i) => (
            <li key={i}>
              {p.port || p.field ? <strong>{p.port ?? p.field}: </strong> : null}
              {p.message}
            </li>
          ))}
          {problems.length > 3 ? <li>…and {problems.length - 3} more</li> : null}
        </ul>
      ) : null}
    </div>
  );
}

export const FlowNode = memo(FlowNodeView);
export const nodeTypes = { plait: FlowNode };
