import { useState, type SubmitEvent } from 'react';
import { ApiError } from '../../api/client';
import { useApi } from '../../app/api-context';
import './sign-in.css';

/** A browser signs in once with the API token; it gets a session cookie and forgets the token. */
export function SignIn() {
  const { api, checkAuth } = useApi();
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api.signIn(token.trim());
      setToken('');
      await checkAuth();
    } catch (caught) {
      setError(
        caught instanceof ApiError && caught.status === 401
          ? 'That is not the API token. Check it and try again.'
          : (caught as Error).message,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <form className="sign-in-card" onSubmit={(event) => void submit(event)}>
        <h1>Perch</h1>
        <p>
          Sign in with this computer's Perch API token. Print it in a terminal with <code>npx perch token</code>.
        </p>
        <div className="field">
          <label htmlFor="api-token">API token</label>
          <input
            id="api-token"
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            autoFocus
            value={token}
            onChange={(event) => setToken(event.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? 'sign-in-error' : undefined}
          />
        </div>
        {error && (
          <div id="sign-in-error" className="notice error" role="alert">
            {error}
          </div>
        )}
        <button className="button primary" type="submit" disabled={busy || token.trim() === ''}>
          Sign in
        </button>
        <p className="hint">The page keeps a session cookie, never the token itself.</p>
      </form>
    </main>
  );
}
