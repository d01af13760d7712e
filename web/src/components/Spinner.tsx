export function Spinner({ label = "Loading" }: { label?: string }) {
  return (
    <span className="spinner" role="progressbar" aria-label={label}>
      <span className="sr-only">{label}</span>
    </span>
  );
}

export function LoadingPage({ label = "Loading" }: { label?: string }) {
  return (
    <div className="loading-page">
      <Spinner label={label} />
    </div>
  );
}
