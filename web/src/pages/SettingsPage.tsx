import { useCallback, useEffect, useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import type { ApiTokenCreated, ApiTokenSummary, Settings, TokenScope } from "../api/types";
import { CopyField } from "../components/CopyButton";
import { ErrorNote, Field } from "../components/Form";
import { Spinner } from "../components/Spinner";
import { useToast } from "../components/Toast";
import { formatDate } from "../lib/format";

export function SettingsPage() {
  return (
    <div className="settings">
      <h1>Settings</h1>
      <GeminiKeySection />
      <TokensSection />
      <McpSection />
    </div>
  );
}

function GeminiKeySection() {
  const toast = useToast();
  const [settings, setSettings] = useState<Settings | null>(null);
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    api.settings().then(setSettings, (e: unknown) => setError(errorMessage(e)));
  }, []);

  async function save(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      setSettings(await api.setGeminiKey(key.trim()));
      setKey("");
      toast.show("Gemini key saved", "success");
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  async function remove() {
    try {
      setSettings(await api.deleteGeminiKey());
      toast.show("Stored Gemini key removed");
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  const source = settings?.gemini_key.source;
  return (
    <section className="panel-section" aria-labelledby="gemini-title" data-testid="settings-gemini">
      <h2 id="gemini-title">Gemini API key</h2>
      <p className="muted">
        Plait calls Google’s Gemini image models with your own key and adds no markup. Without a key, runs use the
        offline <strong>preview</strong> backend: free images that show what would be sent.
      </p>
      {settings === null && !error ? <Spinner /> : null}
      {settings ? (
        <dl className="facts">
          <div>
            <dt>Backend</dt>
            <dd>
              <span className={settings.backend === "preview" ? "badge badge-warn" : "badge badge-ok"} data-testid="settings-backend">
                {settings.backend}
              </span>
            </dd>
          </div>
          <div>
            <dt>Key</dt>
            <dd data-testid="settings-key-hint">
              {source ? (
                <>
                  <code>{settings.gemini_key.hint ?? "••••"}</code>{" "}
                  <span className="muted">({source === "environment" ? "from the environment" : "stored, encrypted"})</span>
                </>
              ) : (
                <span className="muted">none</span>
              )}
            </dd>
          </div>
        </dl>
      ) : null}
      <form className="inline-form" onSubmit={save}>
        <Field
          label={source === "stored" ? "Replace the key" : "Add a key"}
          hint="Write-only: it is stored encrypted and never shown again, only its last four characters."
        >
          {(id, describedBy) => (
            <input
              id={id}
              type="password"
              autoComplete="off"
              spellCheck={false}
              placeholder="AIza…"
              aria-describedby={describedBy}
              value={key}
              data-testid="gemini-key-input"
              onChange={(e) => setKey(e.target.value)}
            />
          )}
        </Field>
        <div className="button-row">
          <button type="submit" className="button button-primary" disabled={busy || !key.trim()} data-testid="gemini-key-save">
            Save key
          </button>
          {source === "stored" ? (
            <button type="button" className="button button-danger" onClick={() => void remove()}>
              Remove stored key
            </button>
          ) : null}
        </div>
      </form>
      {source === "environment" ? (
        <p className="muted small">The key in the environment (GEMINI_API_KEY) is used while it is set.</p>
      ) : null}
      <ErrorNote message={error} />
    </section>
  );
}

const SCOPES: { scope: TokenScope; label: string }[] = [
  { scope: "run", label: "run — start and follow runs and batches" },
  { scope: "read", label: "read — flows, runs, settings" },
  { scope: "write", label: "write — edit and publish flows (and read)" },
  { scope: "admin", label: "admin — tokens and the Gemini key (everything)" },
];

const LIFETIMES: { days: number | null; label: string }[] = [
  { days: null, label: "never" },
  { days: 7, label: "in 7 days" },
  { days: 30, label: "in 30 days" },
  { days: 90, label: "in 90 days" },
  { days: 365, label: "in a year" },
];

function expiryFrom(days: number | null): string | null {
  return days === null ? null : new Date(Date.now() + days * 86_400_000).toISOString();
}

function TokensSection() {
  const [tokens, setTokens] = useState<ApiTokenSummary[] | null>(null);
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<TokenScope[]>(["run", "read", "write"]);
  const [lifetime, setLifetime] = useState<number | null>(90);
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      setTokens(await api.listTokens());
    } catch (e) {
      setError(errorMessage(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function create(event: FormEvent) {
    event.preventDefault();
    setError(null);
    try {
      setCreated(await api.createToken({ name: name.trim(), scopes, expires_at: expiryFrom(lifetime) }));
      setName("");
      await load();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  async function remove(id: string | number) {
    try {
      await api.deleteToken(id);
      if (created && created.id === id) setCreated(null);
      await load();
    } catch (e) {
      setError(errorMessage(e));
    }
  }

  return (
    <section className="panel-section" aria-labelledby="tokens-title" data-testid="settings-tokens">
      <h2 id="tokens-title">API tokens</h2>
      <p className="muted">
        For scripts and the CLI: send <code>Authorization: Bearer plait_…</code>.
      </p>
      <form className="inline-form" onSubmit={create}>
        <Field label="Token name">
          {(id) => (
            <input id={id} required placeholder="e.g. CI" value={name} data-testid="token-name" onChange={(e) => setName(e.target.value)} />
          )}
        </Field>
        <fieldset className="scope-choice" data-testid="token-scopes">
          <legend>Scopes</legend>
          {SCOPES.map(({ scope, label }) => (
            <label key={scope} className="checkbox">
              <input
                type="checkbox"
                value={scope}
                checked={scopes.includes(scope)}
                data-testid={`token-scope-${scope}`}
                onChange={(e) =>
                  setScopes(e.target.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))
                }
              />{" "}
              {label}
            </label>
          ))}
        </fieldset>
        <Field label="Expires">
          {(id) => (
            <select
              id={id}
              value={lifetime === null ? "" : String(lifetime)}
              data-testid="token-expiry"
              onChange={(e) => setLifetime(e.target.value === "" ? null : Number(e.target.value))}
            >
              {LIFETIMES.map(({ days, label }) => (
                <option key={label} value={days === null ? "" : String(days)}>
                  {label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <button type="submit" className="button button-primary" disabled={!name.trim() || scopes.length === 0} data-testid="token-create">
          Create token
        </button>
      </form>
      {created ? (
        <div className="callout callout-ok" data-testid="token-created">
          <p>
            Token <strong>{created.name}</strong> created. Copy it now: it is not shown again.
          </p>
          <CopyField label="Token" value={created.token} testId="token-value" />
        </div>
      ) : null}
      <ErrorNote message={error} />
      {tokens === null ? null : tokens.length === 0 ? (
        <p className="muted">No tokens.</p>
      ) : (
        <table className="table" data-testid="token-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Token</th>
              <th scope="col">Scopes</th>
              <th scope="col">Created</th>
              <th scope="col">Expires</th>
              <th scope="col">Last used</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={String(t.id)}>
                <td>{t.name}</td>
                <td>
                  <code>{t.hint ?? "plait_…"}</code>
                </td>
                <td data-testid="token-row-scopes">{t.scopes.join(", ")}</td>
                <td className="muted">{formatDate(t.created_at)}</td>
                <td className="muted">{t.expires_at ? formatDate(t.expires_at) : "never"}</td>
                <td className="muted">{t.last_used_at ? formatDate(t.last_used_at) : "never"}</td>
                <td className="row-actions">
                  <button type="button" className="button button-small button-ghost button-danger" onClick={() => void remove(t.id)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** What an MCP client needs: the endpoint, and a configuration to paste (Claude Desktop,
 * Cursor and others read `mcpServers`); the token is a placeholder for one made above. */
export function mcpClientConfig(url: string): string {
  const server = { type: "http", url, headers: { Authorization: "Bearer <API token with the run scope>" } };
  return JSON.stringify({ mcpServers: { plait: server } }, null, 2);
}

function McpSection() {
  const [url, setUrl] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    api.settings().then(
      (s) => setUrl(s.mcp_url ?? null),
      (e: unknown) => setError(errorMessage(e)),
    );
  }, []);

  return (
    <section className="panel-section" aria-labelledby="mcp-title" data-testid="settings-mcp">
      <h2 id="mcp-title">MCP (AI agents)</h2>
      <p className="muted">
        Published flows with “Offer as an MCP tool” on are tools for MCP clients (Claude, Cursor, …). Connect with an
        API token that has the run scope. Local clients can also run <code>plait mcp</code> with PLAIT_URL and
        PLAIT_TOKEN set (stdio).
      </p>
      <ErrorNote message={error} />
      {url ? (
        <>
          <CopyField label="MCP URL (Streamable HTTP)" value={url} testId="settings-mcp-url" />
          <CopyField label="Client configuration" value={mcpClientConfig(url)} testId="settings-mcp-config" />
        </>
      ) : null}
    </section>
  );
}
