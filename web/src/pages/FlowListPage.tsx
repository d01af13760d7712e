import { useCallback, useEffect, useRef, useState } from "react";
import { api, errorMessage } from "../api/client";
import type { FlowDocument, FlowSummary, Template } from "../api/types";
import { ErrorNote, Field } from "../components/Form";
import { Modal } from "../components/Modal";
import { Spinner } from "../components/Spinner";
import { useToast } from "../components/Toast";
import { emptyDocument } from "../lib/flow";
import { formatDate } from "../lib/format";
import { linkHandler, navigate } from "../lib/router";

type Dialog = { kind: "rename"; flow: FlowSummary } | { kind: "delete"; flow: FlowSummary } | { kind: "new" } | null;

export function downloadJson(name: string, value: unknown): void {
  const blob = new Blob([JSON.stringify(value, null, 2) + "\n"], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `${name.replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "") || "flow"}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  URL.revokeObjectURL(url);
}

function looksLikeFlow(value: unknown): value is FlowDocument {
  return (
    typeof value === "object" &&
    value !== null &&
    Array.isArray((value as FlowDocument).nodes) &&
    Array.isArray((value as FlowDocument).edges ?? [])
  );
}

export function FlowListPage() {
  const toast = useToast();
  const [flows, setFlows] = useState<FlowSummary[] | null>(null);
  const [templates, setTemplates] = useState<Template[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const importRef = useRef<HTMLInputElement>(null);

  const load = useCallback(async () => {
    try {
      setFlows(await api.listFlows());
      setError(null);
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);

  useEffect(() => {
    void load();
    api.templates().then(setTemplates, () => setTemplates([]));
  }, [load]);

  async function create(document: FlowDocument) {
    try {
      const flow = await api.createFlow(document);
      navigate(`/flows/${encodeURIComponent(flow.id)}`);
    } catch (e) {
      toast.show(`Could not create the flow: ${errorMessage(e)}`, "error");
    }
  }

  async function duplicate(flow: FlowSummary) {
    try {
      const detail = await api.getFlow(flow.id);
      await api.createFlow({ ...detail.document, name: `${detail.document.name || flow.name} (copy)` });
      toast.show(`Duplicated “${flow.name}”`, "success");
      await load();
    } catch (e) {
      toast.show(`Could not duplicate: ${errorMessage(e)}`, "error");
    }
  }

  async function exportFlow(flow: FlowSummary) {
    try {
      const detail = await api.getFlow(flow.id);
      downloadJson(detail.document.name || flow.name, detail.document);
    } catch (e) {
      toast.show(`Could not export: ${errorMessage(e)}`, "error");
    }
  }

  async function importFile(file: File) {
    try {
      const parsed: unknown = JSON.parse(await file.text());
      if (!looksLikeFlow(parsed)) throw new Error("this file is not a Plait flow (no nodes and edges)");
      const document: FlowDocument = {
        ...parsed,
        format: parsed.format ?? 1,
        name: parsed.name || file.name.replace(/\.json$/i, ""),
        edges: parsed.edges ?? [],
      };
      await create(document);
    } catch (e) {
      toast.show(`Could not import ${file.name}: ${errorMessage(e)}`, "error");
    }
  }

  return (
    <div className="flow-list">
      <div className="page-header">
        <h1>Flows</h1>
        <div className="button-row">
          <input
            ref={importRef}
            type="file"
            accept="application/json,.json"
            className="sr-only"
            tabIndex={-1}
            aria-hidden="true"
            data-testid="import-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = "";
              if (file) void importFile(file);
            }}
          />
          <button type="button" className="button" onClick={() => importRef.current?.click()} data-testid="import-flow">
            Import JSON…
          </button>
          <button type="button" className="button button-primary" onClick={() => setDialog({ kind: "new" })} data-testid="new-flow">
            New flow
          </button>
        </div>
      </div>
      <ErrorNote message={error} />
      {flows === null && !error ? (
        <Spinner />
      ) : flows && flows.length === 0 ? (
        <div className="empty-state">
          <p>No flows yet. Start from an empty canvas or a template.</p>
        </div>
      ) : flows ? (
        <table className="table" data-testid="flow-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Version</th>
              <th scope="col">Published</th>
              <th scope="col">Updated</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {flows.map((flow) => (
              <tr key={flow.id} data-testid={`flow-row-${flow.id}`}>
                <td>
                  <a
                    className="flow-link"
                    href={`/flows/${encodeURIComponent(flow.id)}`}
                    onClick={linkHandler(`/flows/${encodeURIComponent(flow.id)}`)}
                  >
                    {flow.name || "Untitled flow"}
                  </a>
                  {flow.description ? <div className="muted small">{flow.description}</div> : null}
                </td>
                <td>v{flow.version}</td>
                <td>{flow.published_version ? <span className="badge badge-ok">v{flow.published_version}</span> : <span className="muted">—</span>}</td>
                <td className="muted">{formatDate(flow.updated_at)}</td>
                <td className="row-actions">
                  <button type="button" className="button button-small button-ghost" onClick={() => setDialog({ kind: "rename", flow })}>
                    Rename
                  </button>
                  <button type="button" className="button button-small button-ghost" onClick={() => void duplicate(flow)}>
                    Duplicate
                  </button>
                  <button type="button" className="button button-small button-ghost" onClick={() => void exportFlow(flow)}>
                    Export
                  </button>
                  <button type="button" className="button button-small button-ghost button-danger" onClick={() => setDialog({ kind: "delete", flow })}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      {templates.length > 0 ? (
        <section className="templates" aria-labelledby="templates-title">
          <h2 id="templates-title">Start from a template</h2>
          <ul className="card-grid">
            {templates.map((t) => (
              <li key={t.id} className="card">
                <h3>{t.name}</h3>
                <p className="muted small">{t.description}</p>
                <button type="button" className="button button-small" data-testid={`template-${t.id}`} onClick={() => void create(t.document)}>
                  Use template
                </button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}

      {dialog?.kind === "new" ? (
        <NameDialog
          title="New flow"
          initial="Untitled flow"
          action="Create"
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            await create(emptyDocument(name));
          }}
        />
      ) : null}
      {dialog?.kind === "rename" ? (
        <NameDialog
          title="Rename flow"
          initial={dialog.flow.name}
          action="Rename"
          onClose={() => setDialog(null)}
          onSubmit={async (name) => {
            const detail = await api.getFlow(dialog.flow.id);
            await api.saveFlow(dialog.flow.id, { ...detail.document, name });
            setDialog(null);
            await load();
          }}
        />
      ) : null}
      {dialog?.kind === "delete" ? (
        <Modal
          title="Delete flow"
          onClose={() => setDialog(null)}
          footer={
            <>
              <button type="button" className="button" onClick={() => setDialog(null)}>
                Cancel
              </button>
              <button
                type="button"
                className="button button-danger-solid"
                data-testid="confirm-delete"
                onClick={async () => {
                  try {
                    await api.deleteFlow(dialog.flow.id);
                    setDialog(null);
                    await load();
                  } catch (e) {
                    toast.show(errorMessage(e), "error");
                  }
                }}
              >
                Delete
              </button>
            </>
          }
        >
          <p>
            Delete <strong>{dialog.flow.name}</strong> with its versions and runs?
            {dialog.flow.published_version ? " Its published endpoint stops answering at once." : ""}
          </p>
        </Modal>
      ) : null}
    </div>
  );
}

function NameDialog({
  title,
  initial,
  action,
  onClose,
  onSubmit,
}: {
  title: string;
  initial: string;
  action: string;
  onClose: () => void;
  onSubmit: (name: string) => Promise<void>;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal title={title} onClose={onClose}>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await onSubmit(name.trim() || "Untitled flow");
          } catch (err) {
            setError(errorMessage(err));
          }
        }}
      >
        <Field label="Name">
          {(id) => <input id={id} autoFocus value={name} data-testid="flow-name-input" onChange={(e) => setName(e.target.value)} />}
        </Field>
        <ErrorNote message={error} />
        <div className="button-row end">
          <button type="button" className="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" data-testid="flow-name-submit">
            {action}
          </button>
        </div>
      </form>
    </Modal>
  );
}
