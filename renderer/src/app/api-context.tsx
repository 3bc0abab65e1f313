import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import { PerchApi, resolveConnection } from '../api/client';
import type { SettingsResponse } from '../api/types';
import { applyTheme } from './theme';

export type AuthState = 'unknown' | 'signed-in' | 'signed-out';

interface ApiContextValue {
  api: PerchApi;
  auth: AuthState;
  /** Asks the service whether this page is signed in (and applies the chosen theme). */
  checkAuth: () => Promise<void>;
}

const ApiContext = createContext<ApiContextValue | undefined>(undefined);

export function ApiProvider({ children, api: given }: { children: ReactNode; api?: PerchApi }) {
  const api = useMemo(() => given ?? new PerchApi(resolveConnection()), [given]);
  const [auth, setAuth] = useState<AuthState>('unknown');
  useEffect(() => api.onUnauthorized(() => setAuth('signed-out')), [api]);
  const checkAuth = useCallback(async () => {
    try {
      const { signed_in } = await api.get<{ signed_in: boolean }>('/api/v1/auth/session');
      if (!signed_in) {
        setAuth('signed-out');
        return;
      }
      const settings = await api.get<SettingsResponse>('/api/v1/settings');
      applyTheme(settings.settings.ui.theme);
      setAuth('signed-in');
    } catch {
      // A 401 has switched to signed-out already; other failures show where data is needed.
    }
  }, [api]);
  const value = useMemo(() => ({ api, auth, checkAuth }), [api, auth, checkAuth]);
  return <ApiContext.Provider value={value}>{children}</ApiContext.Provider>;
}

export function useApi(): ApiContextValue {
  const value = useContext(ApiContext);
  if (!value) throw new Error('useApi must be used inside <ApiProvider>');
  return value;
}
