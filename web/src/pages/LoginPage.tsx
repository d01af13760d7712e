import { useState, type FormEvent } from "react";
import { api, errorMessage } from "../api/client";
import { useAuth } from "../auth";
import { ErrorNote, Field } from "../components/Form";

export function LoginPage() {
  const { signedIn } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const answer = await api.login(email.trim(), password);
      signedIn(answer.user, answer.csrf_token);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <form className="auth-card" onSubmit={submit} data-testid="login-form">
        <h1>
          <span className="brand-mark" aria-hidden="true" /> Sign in to Plait
        </h1>
        <Field label="Email">
          {(id) => (
            <input
              id={id}
              type="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              data-testid="login-email"
              onChange={(e) => setEmail(e.target.value)}
            />
          )}
        </Field>
        <Field label="Password">
          {(id) => (
            <input
              id={id}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              data-testid="login-password"
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <ErrorNote message={error} />
        <button type="submit" className="button button-primary button-block" disabled={busy} data-testid="login-submit">
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </div>
  );
}
