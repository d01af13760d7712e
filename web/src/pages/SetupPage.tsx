import { useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import type { User } from "../api/types";
import { useAuth } from "../auth";
import { ErrorNote, Field } from "../components/Form";
import { navigate } from "../lib/router";

/** First run: the token from the setup link `plait serve` printed, and the admin account. */
export function SetupPage({ initialToken }: { initialToken: string }) {
  const { signedIn } = useAuth();
  const [token, setToken] = useState(initialToken);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (password !== repeat) {
      setError("The two passwords differ.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const answer = await api.setup(token.trim(), email.trim(), password);
      const user: User = "user" in answer ? answer.user : answer;
      const csrf = "csrf_token" in answer ? answer.csrf_token : null;
      navigate("/", true);
      signedIn(user, csrf);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <form className="auth-card" onSubmit={submit} data-testid="setup-form">
        <h1>
          <span className="brand-mark" aria-hidden="true" /> Set up Plait
        </h1>
        <p className="muted">
          Create the first account. The setup token is in the link <code>plait serve</code> printed when it first
          started.
        </p>
        <Field label="Setup token">
          {(id) => (
            <input id={id} required value={token} data-testid="setup-token" onChange={(e) => setToken(e.target.value)} />
          )}
        </Field>
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              autoComplete="username"
              required
              value={email}
              data-testid="setup-email"
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password" hint="At least 8 characters.">
          {(id, describedBy) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              minLength={8}
              required
              aria-describedby={describedBy}
              value={password}
              data-testid="setup-password"
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <Field label="Repeat password">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="new-password"
              required
              value={repeat}
              data-testid="setup-password-repeat"
              onChange={(e) => setRepeat(e.target.value)}
            />
          )}
        </Field>
        <ErrorNote message={error} />
        <button type="submit" className="button button-primary button-block" disabled={busy} data-testid="setup-submit">
          {busy ? "Creating…" : "Create account"}
        </button>
      </form>
    </div>
  );
}
