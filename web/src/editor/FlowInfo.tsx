// The inspector when no single node is selected: the flow's description and how to build.
import type { FlowMeta } from "../lib/flow";

export function FlowInfo({ meta, selectedCount, onMeta }: { meta: FlowMeta; selectedCount: number; onMeta: (m: FlowMeta) => void }) {
  return (
    <div className="flow-info">
      {selectedCount > 1 ? <p className="callout">{selectedCount} nodes selected. Press Delete to remove them, Ctrl+C to copy.</p> : null}
      <div className="field">
        <label className="field-label" htmlFor="flow-description">
          Description
        </label>
        <textarea id="flow-description" rows={3} value={meta.description} onChange={(e) => onMeta({ ...meta, description: e.target.value })} />
      </div>
      <h3 className="section-title">Build a flow</h3>
      <ul className="hints">
        <li>Drag node types from the left onto the canvas, or press one to add it: it goes right of the selected node, wired to it where the types fit.</li>
        <li>Double-click the empty canvas to search for a node and place it there.</li>
        <li>Connect an output (right) to an input (left) of a matching type.</li>
        <li>Select a node to configure it here; its Data tab shows what it got and made in the last run, and runs the flow up to it.</li>
        <li>
          In prompts, <code>{"{{ node.port }}"}</code> inserts an upstream value (drawn as a dashed edge).
        </li>
        <li>⇶ under the zoom buttons tidies the flow left to right.</li>
      </ul>
      <h3 className="section-title">Keyboard</h3>
      <dl className="shortcuts">
        <div>
          <dt>
            <kbd>Ctrl</kbd> <kbd>Z</kbd> / <kbd>Ctrl</kbd> <kbd>Shift</kbd> <kbd>Z</kbd>
          </dt>
          <dd>undo / redo</dd>
        </div>
        <div>
          <dt>
            <kbd>Ctrl</kbd> <kbd>C</kbd> / <kbd>Ctrl</kbd> <kbd>V</kbd>
          </dt>
          <dd>copy / paste nodes</dd>
        </div>
        <div>
          <dt>
            <kbd>Delete</kbd>
          </dt>
          <dd>remove the selection</dd>
        </div>
        <div>
          <dt>
            <kbd>Ctrl</kbd> <kbd>S</kbd>
          </dt>
          <dd>save a version</dd>
        </div>
        <div>
          <dt>
            <kbd>Ctrl</kbd> <kbd>Enter</kbd>
          </dt>
          <dd>run with test inputs</dd>
        </div>
      </dl>
    </div>
  );
}
