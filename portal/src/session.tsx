/** Who is logged in: loaded once from /auth/me, shared by every page. */
import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { api, ApiError, post, setCsrfToken } from './api';
import type { LoginMethods, Me } from './types';

interface Session {
  me?: Me;
  methods?: LoginMethods;
  /** Still finding out whether someone is logged in. */
  loading: boolean;
  error?: ApiError;
  refresh(): Promise<void>;
  logout(): Promise<void>;
}

const SessionContext = createContext<Session | undefined>(undefined);

interface Loaded {
  me?: Me;
  methods?: LoginMethods;
  error?: ApiError;
}

/** Who is logged in; when nobody is, how one may log in. */
async function loadSession(): Promise<Loaded> {
  try {
    const me = await api<Me>('/auth/me');
    setCsrfToken(me.csrfToken);
    return { me };
  } catch (e) {
    setCsrfToken(undefined);
    const methods = await api<LoginMethods>('/auth/methods').catch(() => undefined);
    if (e instanceof ApiError && e.status === 401) return { methods };
    return { methods, error: e instanceof ApiError ? e : new ApiError(0, 'client', String(e)) };
  }
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<Loaded>();

  const refresh = useCallback(async () => setState(await loadSession()), []);
  const logout = useCallback(async () => {
    await post('/auth/logout').catch(() => undefined);
    setState(await loadSession());
  }, []);

  useEffect(() => {
    let live = true;
    void loadSession().then((s) => {
      if (live) setState(s);
    });
    return () => {
      live = false;
    };
  }, []);

  return (
    <SessionContext.Provider value={{ ...state, loading: state === undefined, refresh, logout }}>
      {children}
    </SessionContext.Provider>
  );
}

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside SessionProvider');
  return s;
}

/** The logged-in person; pages under the layout are only shown when there is one. */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('useMe without a session');
  return me;
}
