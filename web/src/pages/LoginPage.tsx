import { useState } from "react";
import { api } from "../api/client";
import { useAuth } from "../auth";
import { AuthCard, EmailField } from "../components/AuthCard";
import { Field } from "../components/Form";

export function LoginPage() {
  const { signedIn } = useAuth();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");

  async function signIn() {
    const answer = await api.login(email.trim(), password);
    signedIn(answer.user, answer.csrf_token);
  }

  return (
    <AuthCard name="login" title="Sign in to Plait" submitLabel="Sign in" busyLabel="Signing in…" onSubmit={signIn}>
      <EmailField value={email} onChange={setEmail} testId="login-email" autoFocus />
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
    </AuthCard>
  );
}
