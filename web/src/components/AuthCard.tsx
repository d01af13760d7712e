import { useState, type FormEvent, type ReactNode } from "react";
import { errorMessage } from "../api/client";
import { ErrorNote, Field } from "./Form";

/** The sign-in and set-up card: a titled form whose submit shows progress and any error.
 * `onSubmit` throws to show its message. */
export function AuthCard({
  name,
  title,
  submitLabel,
  busyLabel,
  onSubmit,
  children,
}: {
  name: string;
  title: string;
  submitLabel: string;
  busyLabel: string;
  onSubmit: () => Promise<void>;
  children: ReactNode;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await onSubmit();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <form className="auth-card" onSubmit={submit} data-testid={`${name}-form`}>
        <h1>
          <span className="brand-mark" aria-hidden="true" /> {title}
        </h1>
        {children}
        <ErrorNote message={error} />
        <button
          type="submit"
          className="button button-primary button-block"
          disabled={busy}
          data-testid={`${name}-submit`}
        >
          {busy ? busyLabel : submitLabel}
        </button>
      </form>
    </div>
  );
}

export function EmailField({
  value,
  onChange,
  testId,
  autoFocus,
}: {
  value: string;
  onChange: (value: string) => void;
  testId: string;
  autoFocus?: boolean;
}) {
  return (
    <Field label="Email">
      {(id) => (
        <input
          id={id}
          type="email"
          autoComplete="username"
          required
          autoFocus={autoFocus}
          value={value}
          data-testid={testId}
          onChange={(e) => onChange(e.target.value)}
        />
      )}
    </Field>
  );
}
