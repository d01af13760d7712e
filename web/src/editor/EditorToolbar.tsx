// The editor's top bar: name, save state, validation, undo/redo, save, run, batches, publish.
import { memo } from "react";
import { leaveEditor } from "./leaveEditor";
import type { UndoApi } from "./useHistory";
import type { ValidationState } from "./useValidation";

interface ToolbarProps {
  flowId: string;
  name: string;
  onName: (name: string) => void;
  dirty: boolean;
  version: number;
  publishedVersion: number | null;
  validation: ValidationState;
  saving: boolean;
  undo: UndoApi;
  onSave: () => void;
  onRun: () => void;
  onPublish: () => void;
}

function validationText(v: ValidationState): string {
  if (v.error) return "validation unavailable";
  const n = v.problems.length;
  if (n) return `${n} problem${n === 1 ? "" : "s"}`;
  return v.valid ? "valid" : "checking…";
}

function EditorToolbarView({ flowId, name, onName, dirty, version, publishedVersion, validation, saving, undo, onSave, onRun, onPublish }: ToolbarProps) {
  const problemCount = validation.problems.length;
  return (
    <div className="editor-toolbar" role="toolbar" aria-label="Flow">
      <a
        className="button button-ghost button-small"
        href="/"
        onClick={leaveEditor(dirty, "/")}
      >
        ← Flows
      </a>
      <label className="sr-only" htmlFor="flow-name">
        Flow name
      </label>
      <input id="flow-name" className="flow-name" value={name} data-testid="flow-name" onChange={(e) => onName(e.target.value)} />
      <span className={dirty ? "save-state dirty" : "save-state"} data-testid="save-state" aria-live="polite">
        {dirty ? "Unsaved changes" : `Saved · v${version}`}
      </span>
      {publishedVersion !== null ? (
        <span className="badge badge-ok" data-testid="published-badge">
          published v{publishedVersion}
        </span>
      ) : null}
      <span
        className={problemCount ? "badge badge-error" : validation.valid ? "badge badge-ok" : "badge"}
        data-testid="validation-state"
        title={validation.problems.map((p) => `${p.node_id ?? "flow"}: ${p.message}`).join("\n") || undefined}
      >
        {validationText(validation)}
      </span>
      <span className="toolbar-spacer" />
      <button
        type="button"
        className="button button-small"
        disabled={!undo.canUndo}
        onClick={undo.undo}
        aria-keyshortcuts="Control+Z"
        data-testid="undo"
        title="Undo (Ctrl+Z)"
      >
        Undo
      </button>
      <button
        type="button"
        className="button button-small"
        disabled={!undo.canRedo}
        onClick={undo.redo}
        aria-keyshortcuts="Control+Shift+Z"
        data-testid="redo"
        title="Redo (Ctrl+Shift+Z)"
      >
        Redo
      </button>
      <button
        type="button"
        className="button button-small"
        disabled={saving || !dirty}
        onClick={onSave}
        aria-keyshortcuts="Control+S"
        data-testid="save-button"
        title="Save a version (Ctrl+S)"
      >
        {saving ? "Saving…" : "Save"}
      </button>
      <button
        type="button"
        className="button button-small button-run"
        onClick={onRun}
        aria-keyshortcuts="Control+Enter"
        title="Run with test inputs (Ctrl+Enter)"
        data-testid="run-button"
      >
        ▶ Run
      </button>
      <a
        className="button button-small"
        href={`/flows/${flowId}/batches`}
        title="Run the saved flow once per row of a CSV or JSON Lines file"
        data-testid="batches-link"
        onClick={leaveEditor(dirty, `/flows/${flowId}/batches`)}
      >
        Batches
      </a>
      <button type="button" className="button button-small button-primary" onClick={onPublish} data-testid="publish-button">
        Publish…
      </button>
    </div>
  );
}

export const EditorToolbar = memo(EditorToolbarView);
