// The selected node's settings, generated from its type's JSON schema.
import { memo, useId } from "react";
import type { JsonObject } from "../api/types";
import type { PlaitNodeData } from "../lib/flow";
import type { ReferenceChoices } from "../lib/templateRefs";
import { useCatalog } from "./catalog";
import { ConnectionsForm, type OutputRef } from "./forms/ConnectionsForm";
import { FileInputForm } from "./forms/FileInputForm";
import { ImageForm } from "./forms/ImageForm";
import { SchemaFields, type FormContext } from "./forms/SchemaForm";
import { useNodeView } from "./viewStore";

interface ConfigPanelProps {
  nodeId: string;
  data: PlaitNodeData;
  references: ReferenceChoices;
  outputs: readonly OutputRef[];
  connectedPorts: ReadonlyMap<string, string>;
  onWire: (nodeId: string, port: string, source: string | null) => void;
  onConfig: (id: string, config: JsonObject) => void;
  onLabel: (id: string, label: string) => void;
  onDelete: (id: string) => void;
}

function ConfigPanelView({ nodeId, data, references, outputs, connectedPorts, onWire, onConfig, onLabel, onDelete }: ConfigPanelProps) {
  const { byType } = useCatalog();
  const view = useNodeView(nodeId);
  const labelId = useId();
  const info = byType.get(data.nodeType);
  const notOwn = (r: string) => !r.startsWith(`${nodeId}.`);
  const ownReferences: ReferenceChoices = { upstream: references.upstream.filter(notOwn), unconnected: references.unconnected.filter(notOwn) };

  if (!info) {
    return (
      <div className="config-panel">
        <p className="error-note">Unknown node type “{data.nodeType}”.</p>
      </div>
    );
  }

  const ctx: FormContext = { root: info.config_schema, references: ownReferences, problems: view.problems, testPrefix: "config" };
  const onChange = (config: JsonObject) => onConfig(nodeId, config);
  const general = view.problems.filter((p) => !p.field && !p.port);

  return (
    <div className="config-panel" data-testid="config-panel" data-node-id={nodeId}>
      <header className="config-header">
        <h2>{info.title}</h2>
        <p className="muted small">{info.description}</p>
        <p className="small">
          Id <code data-testid="config-node-id">{nodeId}</code>{" "}
          <span className="muted">— edges and templates refer to it</span>
        </p>
      </header>
      {view.problems.length ? (
        <div className="callout callout-error" role="alert" data-testid="config-problems">
          <strong>{view.problems.length === 1 ? "1 problem" : `${view.problems.length} problems`}</strong>
          <ul>
            {(general.length ? general : view.problems).map((p, i) => (
              <li key={i}>
                {p.port || p.field ? <code>{p.port ?? p.field}</code> : null} {p.message}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <form className="config-form" onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label className="field-label" htmlFor={labelId}>
            Label
          </label>
          <input
            id={labelId}
            type="text"
            value={data.label ?? ""}
            placeholder={info.title}
            data-testid="config-label"
            onChange={(e) => onLabel(nodeId, e.target.value)}
          />
        </div>
        {data.nodeType === "image" ? (
          <ImageForm config={data.config} onChange={onChange} ctx={ctx} connectedPorts={connectedPorts} />
        ) : data.nodeType === "file_input" ? (
          <FileInputForm config={data.config} onChange={onChange} />
        ) : (
          <SchemaFields schema={info.config_schema} value={data.config} ctx={ctx} onChange={onChange} />
        )}
      </form>
      <ConnectionsForm
        nodeId={nodeId}
        inputs={view.ports?.inputs ?? info.inputs}
        connected={connectedPorts}
        outputs={outputs}
        onWire={(port, source) => onWire(nodeId, port, source)}
      />
      <div className="config-footer">
        <button type="button" className="button button-small button-danger" data-testid="config-delete-node" onClick={() => onDelete(nodeId)}>
          Delete node
        </button>
      </div>
    </div>
  );
}

export const ConfigPanel = memo(ConfigPanelView);
