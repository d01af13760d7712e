import { useState } from "react";
import { api } from "../api/client";
import type { User } from "../api/types";
import { useAuth } from "../auth";
import { AuthCard, EmailField } from "../components/AuthCard";
import { Field } from "../components/Form";
import { navigate } from "../lib/router";

/** First run: the token from the setup link `plait serve` printed, and the admin account. */
export function SetupPage({ initialToken }: { initialToken: string }) {
  const { signedIn } = useAuth();
  const [token, setToken] = useState(initialToken);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [repeat, setRepeat] = useState("");

  async function createAccount() {
    if (password !== repeat) throw new Error("The two passwords differ.");
    const answer = await api.setup(token.trim(), email.trim(), password);
    const user: User = "user" in answer ? answer.user : answer;
    const csrf = "csrf_token" in answer ? answer.csrf_token : null;
    navigate("/", true);
    signedIn(user, csrf);
  }

  return (
    <AuthCard
      name="setup"
      title="Set up Plait"
      submitLabel="Create account"
      busyLabel="Creating…"
      onSubmit={createAccount}
    >
      <p className="muted">
        Create the first account. The setup token is in the link <code>plait serve</code> printed when it first
        started.
      </p>
      <Field label="Setup token">
        {(id) => (
          <input id={id} required value={token} data-testid="setup-token" onChange={(e) => setToken(e.target.value)} />
        )}
      </Field>
      <EmailField value={email} onChange={setEmail} testId="setup-email" />
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
    </AuthCard>
  );
}
