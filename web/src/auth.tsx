// Who is signed in, and the CSRF token the API client sends on unsafe requests.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api, setCsrfToken, setUnauthorizedHandler } from "./api/client";
import type { AuthState, User } from "./api/types";

interface AuthApi {
  state: AuthState | null;
  loadError: string | null;
  refresh: () => Promise<void>;
  signedIn: (user: User, csrfToken: string | null) => void;
  signOut: () => Promise<void>;
}

const AuthContext = createContext<AuthApi | null>(null);

export function AuthProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<AuthState | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      const next = await api.authState();
      setCsrfToken(next.csrf_token);
      setState(next);
      setLoadError(null);
    } catch (error) {
      setLoadError(error instanceof Error ? error.message : String(error));
    }
  }, []);

  useEffect(() => {
    void refresh();
    setUnauthorizedHandler(() => {
      setCsrfToken(null);
      setState((s) => (s ? { ...s, user: null, csrf_token: null } : s));
    });
    return () => setUnauthorizedHandler(null);
  }, [refresh]);

  const signedIn = useCallback(
    (user: User, csrfToken: string | null) => {
      setCsrfToken(csrfToken);
      setState({ setup_required: false, user, csrf_token: csrfToken });
      // The setup answer carries no CSRF token: read it from the auth state.
      if (!csrfToken) void refresh();
    },
    [refresh],
  );

  const signOut = useCallback(async () => {
    try {
      await api.logout();
    } finally {
      setCsrfToken(null);
      setState((s) => (s ? { ...s, user: null, csrf_token: null } : s));
    }
  }, []);

  const value = useMemo(() => ({ state, loadError, refresh, signedIn, signOut }), [state, loadError, refresh, signedIn, signOut]);
  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>;
}

export function useAuth(): AuthApi {
  const value = useContext(AuthContext);
  if (!value) throw new Error("AuthProvider is missing");
  return value;
}
