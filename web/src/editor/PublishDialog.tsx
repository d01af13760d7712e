// Publishing: pin a version to the trigger endpoints, show the secret once, examples to copy.
import { useEffect, useId, useState } from "react";
import { ApiError, api, errorMessage } from "../api/client";
import type { CodeExamples, Problem, Publication, VersionSummary } from "../api/types";
import { CopyButton, CopyField } from "../components/CopyButton";
import { ErrorNote } from "../components/Form";
import { Modal } from "../components/Modal";
import { formatCost, formatDate, problemText } from "../lib/format";

/** How long the old secret keeps working after a rotation. */
const GRACE_SECONDS = 3600;
const GRACE_TEXT = "1 hour";

const SECRET_PLACEHOLDER = "<SECRET>";
type Lang = keyof CodeExamples;
const LANGS: { key: Lang; label: string }[] = [
  { key: "curl", label: "curl" },
  { key: "python", label: "Python" },
  { key: "javascript", label: "JavaScript" },
];

export function PublishDialog({
  flowId,
  latestVersion,
  initialVersion,
  publication,
  dirty,
  onSave,
  onChanged,
  onClose,
}: {
  flowId: string;
  latestVersion: number;
  initialVersion: number;
  publication: Publication | null;
  dirty: boolean;
  onSave: () => Promise<number | null>;
  onChanged: (publication: Publication | null) => void;
  onClose: () => void;
}) {
  const ids = { version: useId(), rate: useId(), budget: useId(), mcp: useId() };
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [version, setVersion] = useState<number>(initialVersion);
  const [rate, setRate] = useState<number>(publication?.rate_limit_per_minute ?? 60);
  // a text field: empty means no cap
  const [budget, setBudget] = useState<string>(publication?.daily_budget_usd?.toString() ?? "");
  const [mcp, setMcp] = useState<boolean>(publication?.mcp ?? false);
  const [secret, setSecret] = useState<string | null>(null);
  const [examples, setExamples] = useState<CodeExamples | null>(null);
  const [lang, setLang] = useState<Lang>("curl");
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [busy, setBusy] = useState(false);
  const [confirmUnpublish, setConfirmUnpublish] = useState(false);
  const [confirmRotate, setConfirmRotate] = useState(false);

  useEffect(() => {
    api.listVersions(flowId).then(setVersions, () => setVersions([]));
  }, [flowId, latestVersion, publication]);

  useEffect(() => {
    if (!publication) {
      setExamples(null);
      return;
    }
    api.examples(flowId).then(setExamples, () => setExamples(null));
  }, [flowId, publication]);

  async function run(action: () => Promise<void>) {
    setBusy(true);
    setError(null);
    setProblems([]);
    try {
      await action();
    } catch (e) {
      setError(errorMessage(e));
      setProblems(e instanceof ApiError ? e.problems : []);
    } finally {
      setBusy(false);
    }
  }

  const publish = () =>
    run(async () => {
      let target = version;
      if (dirty && version === latestVersion) {
        const saved = await onSave();
        if (saved === null) return;
        target = saved;
        setVersion(saved);
      }
      const answer = await api.publish(flowId, target, rate, budget.trim() === "" ? null : Number(budget), mcp);
      if (answer.secret) setSecret(answer.secret);
      onChanged(answer);
    });

  const rotate = () =>
    run(async () => {
      const answer = await api.rotateSecret(flowId, GRACE_SECONDS);
      if (answer.secret) setSecret(answer.secret);
      setConfirmRotate(false);
      onChanged(answer);
    });

  const unpublish = () =>
    run(async () => {
      await api.unpublish(flowId);
      setSecret(null);
      setConfirmUnpublish(false);
      onChanged(null);
    });

  const chosen = versions.find((v) => v.number === version);
  // the latest with unsaved changes is saved first: what it will be is not known yet
  const willSave = dirty && version === latestVersion;
  const blocked = !willSave && chosen?.publishable === false;
  const withSecret = (text: string) => (secret ? text.split(SECRET_PLACEHOLDER).join(secret) : text);

  return (
    <Modal title="Publish as an HTTP API" onClose={onClose} wide testId="publish-dialog">
      <div className="publish-status" data-testid="publish-status">
        {publication ? (
          <p>
            <span className="badge badge-ok">published</span> Version <strong data-testid="publish-current-version">v{publication.version}</strong>{" "}
            since {formatDate(publication.published_at)} · {publication.rate_limit_per_minute} requests per minute
            {publication.secret_hint ? (
              <>
                {" "}
                · secret <code>{publication.secret_hint}</code>
              </>
            ) : null}
            {publication.daily_budget_usd !== null ? (
              <span data-testid="publish-spending">
                {" "}
                · spent today {formatCost(publication.spending_today?.spent_usd ?? 0)} of{" "}
                {formatCost(publication.daily_budget_usd)}
                {publication.spending_today ? `, resets ${formatResets(publication.spending_today.resets_at)}` : ""}
              </span>
            ) : null}
            {publication.secrets_active && publication.secrets_active > 1 ? (
              <span className="muted"> · the previous secret still works until its grace period ({GRACE_TEXT} after rotating) ends</span>
            ) : null}
          </p>
        ) : (
          <p className="muted">Not published. Publishing pins one saved version; editing the draft never changes what the API serves.</p>
        )}
      </div>

      <form
        className="publish-form"
        onSubmit={(e) => {
          e.preventDefault();
          void publish();
        }}
      >
        <div className="field">
          <label className="field-label" htmlFor={ids.version}>
            Version
          </label>
          <select id={ids.version} value={version} data-testid="publish-version" onChange={(e) => setVersion(Number(e.target.value))}>
            {(versions.length ? versions : [{ number: latestVersion, created_at: "", hash: "", created_by: null }]).map((v) => (
              <option key={v.number} value={v.number}>
                v{v.number}
                {v.number === latestVersion ? " (latest)" : ""}
                {v.number === publication?.version ? " — published" : ""}
                {v.created_at ? ` — ${formatDate(v.created_at)}` : ""}
                {"message" in v && v.message ? ` — ${v.message}` : ""}
                {"publishable" in v && v.publishable === false ? " — cannot be published" : ""}
              </option>
            ))}
          </select>
          {willSave ? <p className="field-hint">The draft has unsaved changes: they are saved first as a new version.</p> : null}
          {blocked ? (
            <div className="callout callout-warn" data-testid="publish-version-problems">
              <p>v{version} cannot serve as an API: fix these in the draft, save, then publish.</p>
              <ul>
                {(chosen?.problems ?? []).map((p, i) => (
                  <li key={i}>{problemText(p)}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </div>
        <div className="field">
          <label className="field-label" htmlFor={ids.rate}>
            Rate limit (requests per minute)
          </label>
          <input
            id={ids.rate}
            type="number"
            min={1}
            max={100000}
            value={rate}
            data-testid="publish-rate-limit"
            onChange={(e) => setRate(Math.max(1, Number(e.target.value) || 1))}
          />
        </div>
        <div className="field">
          <label className="field-label" htmlFor={ids.budget}>
            Daily budget (USD)
          </label>
          <input
            id={ids.budget}
            type="number"
            min={0}
            step={0.01}
            placeholder="no cap"
            value={budget}
            data-testid="publish-daily-budget"
            aria-describedby={`${ids.budget}-hint`}
            onChange={(e) => setBudget(e.target.value)}
          />
          <p className="field-hint" id={`${ids.budget}-hint`}>
            Most the endpoint may spend per UTC day. Over it, calls get 429 until midnight UTC. Empty: no cap.
          </p>
        </div>
        <div className="field">
          <label className="field-label" htmlFor={ids.mcp}>
            <input
              id={ids.mcp}
              type="checkbox"
              checked={mcp}
              data-testid="publish-mcp"
              aria-describedby={`${ids.mcp}-hint`}
              onChange={(e) => setMcp(e.target.checked)}
            />{" "}
            Offer as an MCP tool
          </label>
          <p className="field-hint" id={`${ids.mcp}-hint`}>
            AI agents (Claude, Cursor, any MCP client) can call this flow as a tool at /mcp with an API token, under the
            same rate limit and budget. The address is in Settings.
          </p>
        </div>
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={busy || blocked} data-testid="publish-submit">
            {publication ? (version === publication.version ? "Update" : version < publication.version ? `Roll back to v${version}` : `Publish v${version}`) : "Publish"}
          </button>
          {publication ? (
            <>
              {confirmRotate ? (
                <>
                  <span className="small" data-testid="publish-rotate-question">
                    Make a new secret? The current one keeps working for {GRACE_TEXT} (the grace period), then stops.
                  </span>
                  <button type="button" className="button button-primary" disabled={busy} data-testid="publish-rotate-confirm" onClick={() => void rotate()}>
                    Rotate now
                  </button>
                  <button type="button" className="button" onClick={() => setConfirmRotate(false)}>
                    Keep
                  </button>
                </>
              ) : (
                <button type="button" className="button" disabled={busy} data-testid="publish-rotate" onClick={() => setConfirmRotate(true)}>
                  Rotate secret
                </button>
              )}
              {confirmUnpublish ? (
                <>
                  <span className="small">Stop the endpoint now?</span>
                  <button type="button" className="button button-danger-solid" disabled={busy} data-testid="publish-unpublish-confirm" onClick={() => void unpublish()}>
                    Unpublish
                  </button>
                  <button type="button" className="button" onClick={() => setConfirmUnpublish(false)}>
                    Keep
                  </button>
                </>
              ) : (
                <button type="button" className="button button-danger" disabled={busy} data-testid="publish-unpublish" onClick={() => setConfirmUnpublish(true)}>
                  Unpublish
                </button>
              )}
            </>
          ) : null}
        </div>
      </form>
      <ErrorNote message={error} />
      {problems.length ? (
        <ul className="problem-list" data-testid="publish-problems">
          {problems.map((p, i) => (
            <li key={i} className="text-error small">
              {problemText(p)}
            </li>
          ))}
        </ul>
      ) : null}

      {secret ? (
        <div className="callout callout-warn" data-testid="publish-secret-box">
          <p>
            <strong>Copy the secret now.</strong> It is part of the endpoint URL and is shown only this once; Plait
            stores only its hash.
          </p>
          <CopyField label="Secret" value={secret} testId="publish-secret" />
        </div>
      ) : null}

      {publication ? (
        <>
          <h3 className="section-title">Endpoints</h3>
          {publication.triggers.map((t) => (
            <CopyField key={t.node_id} label={`POST · trigger node “${t.node_id}”`} value={withSecret(t.url)} testId={`publish-endpoint-${t.node_id}`} />
          ))}
          {!secret ? (
            <p className="field-hint">
              <code>{SECRET_PLACEHOLDER}</code> stands for the secret shown when you first published (or rotate it to get a new one).
            </p>
          ) : null}
          {examples && /photo\.jpg/.test(examples.curl) ? (
            <p className="field-hint" data-testid="publish-example-photo-hint">
              Image fields: the examples send <code>photo.jpg</code> from the current folder — as a file part with curl, as base64 in JSON
              from Python and JavaScript (Node, saved as an <code>.mjs</code> file).
            </p>
          ) : null}
          {examples ? (
            <>
              <h3 className="section-title">Call it</h3>
              <div className="tabs" role="tablist" aria-label="Example language">
                {LANGS.map((l) => (
                  <button
                    key={l.key}
                    type="button"
                    role="tab"
                    className="tab"
                    aria-selected={lang === l.key}
                    data-testid={`publish-example-tab-${l.key}`}
                    onClick={() => setLang(l.key)}
                  >
                    {l.label}
                  </button>
                ))}
              </div>
              <div className="code-block">
                <pre data-testid={`publish-example-${lang}`}>
                  <code>{withSecret(examples[lang])}</code>
                </pre>
                <CopyButton text={withSecret(examples[lang])} testId="publish-example-copy" />
              </div>
            </>
          ) : null}
        </>
      ) : null}
    </Modal>
  );
}

function formatResets(iso: string): string {
  return `at ${new Date(iso).toISOString().slice(11, 16)} UTC`;
}
