// Wiring the selected node's inputs from a list: the keyboard way to connect ports.
import { useId } from "react";
import type { Port, PortType } from "../../api/types";
import { accepts, PORT_TYPE_LABEL } from "../../lib/ports";

export interface OutputRef {
  ref: string; // "node.port"
  type: PortType;
}

function InputRow({
  port,
  current,
  outputs,
  onWire,
}: {
  port: Port;
  current: string | undefined;
  outputs: readonly OutputRef[];
  onWire: (port: string, source: string | null) => void;
}) {
  const id = useId();
  const options = outputs.filter((o) => accepts(port.type, o.type));
  return (
    <div className="connection-row">
      <label htmlFor={id}>
        <code>{port.name}</code> <span className="muted small">{PORT_TYPE_LABEL[port.type]}</span>
      </label>
      <select id={id} value={current ?? ""} data-testid={`wire-${port.name}`} onChange={(e) => onWire(port.name, e.target.value || null)}>
        <option value="">{port.config_fallback ? "— not connected (uses the setting) —" : "— not connected —"}</option>
        {current && !options.some((o) => o.ref === current) ? <option value={current}>{current}</option> : null}
        {options.map((o) => (
          <option key={o.ref} value={o.ref}>
            {o.ref} ({PORT_TYPE_LABEL[o.type]})
          </option>
        ))}
      </select>
    </div>
  );
}

export function ConnectionsForm({
  nodeId,
  inputs,
  connected,
  outputs,
  onWire,
}: {
  nodeId: string;
  inputs: readonly Port[];
  connected: ReadonlyMap<string, string>;
  outputs: readonly OutputRef[];
  onWire: (port: string, source: string | null) => void;
}) {
  if (!inputs.length) return null;
  const others = outputs.filter((o) => !o.ref.startsWith(`${nodeId}.`));
  return (
    <fieldset className="object-list connections" data-testid="config-connections">
      <legend>Inputs</legend>
      <p className="field-hint">Connect each input from an upstream output (the same as drawing an edge).</p>
      {inputs.map((p) => (
        <InputRow key={p.name} port={p} current={connected.get(p.name)} outputs={others} onWire={onWire} />
      ))}
    </fieldset>
  );
}
