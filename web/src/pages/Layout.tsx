import type { ReactNode } from "react";
import { useAuth } from "../auth";
import { linkHandler, navigate, useLocation } from "../lib/router";

export function TopBar({ children }: { children?: ReactNode }) {
  const { state, signOut } = useAuth();
  const { path } = useLocation();
  return (
    <header className="topbar">
      <a className="brand" href="/" onClick={linkHandler("/")}>
        <span className="brand-mark" aria-hidden="true" />
        Plait
      </a>
      {children ?? (
        <nav className="topnav" aria-label="Main">
          <a href="/" onClick={linkHandler("/")} aria-current={path === "/" ? "page" : undefined}>
            Flows
          </a>
          <a href="/settings" onClick={linkHandler("/settings")} aria-current={path.startsWith("/settings") ? "page" : undefined}>
            Settings
          </a>
          <a href="/docs" target="_blank" rel="noreferrer">
            API docs
          </a>
        </nav>
      )}
      <div className="topbar-user">
        <span className="muted">{state?.user?.email}</span>
        <button
          type="button"
          className="button button-ghost button-small"
          data-testid="sign-out"
          onClick={async () => {
            await signOut();
            navigate("/", true);
          }}
        >
          Sign out
        </button>
      </div>
    </header>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  return (
    <div className="page">
      <TopBar />
      <main className="page-main">{children}</main>
    </div>
  );
}
