import { AuthProvider, useAuth } from "./auth";
import { LoadingPage } from "./components/Spinner";
import { ToastProvider } from "./components/Toast";
import { EditorPage } from "./editor/EditorPage";
import { useLocation } from "./lib/router";
import { BatchesPage } from "./pages/BatchesPage";
import { FlowListPage } from "./pages/FlowListPage";
import { Layout } from "./pages/Layout";
import { LoginPage } from "./pages/LoginPage";
import { SettingsPage } from "./pages/SettingsPage";
import { SetupPage } from "./pages/SetupPage";

export function App() {
  return (
    <ToastProvider>
      <AuthProvider>
        <Routes />
      </AuthProvider>
    </ToastProvider>
  );
}

function Routes() {
  const { state, loadError, refresh } = useAuth();
  const { path, query } = useLocation();

  if (!state) {
    if (loadError)
      return (
        <div className="auth-page">
          <div className="auth-card">
            <h1>Plait</h1>
            <p className="error-note" role="alert">
              Cannot reach the Plait server: {loadError}
            </p>
            <button type="button" className="button" onClick={() => void refresh()}>
              Try again
            </button>
          </div>
        </div>
      );
    return <LoadingPage />;
  }
  if (state.setup_required) return <SetupPage initialToken={query.get("token") ?? ""} />;
  if (!state.user) return <LoginPage />;

  const batchesMatch = /^\/flows\/([^/]+)\/batches\/?$/.exec(path);
  if (batchesMatch)
    return (
      <Layout>
        <BatchesPage key={batchesMatch[1]} flowId={decodeURIComponent(batchesMatch[1]!)} />
      </Layout>
    );
  const flowMatch = /^\/flows\/([^/]+)\/?$/.exec(path);
  if (flowMatch) return <EditorPage key={flowMatch[1]} flowId={decodeURIComponent(flowMatch[1]!)} />;
  return (
    <Layout>{path.startsWith("/settings") ? <SettingsPage /> : <FlowListPage />}</Layout>
  );
}
