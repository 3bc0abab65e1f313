import { useEffect, useState } from 'react';
import { fetchHealth, type PublicHealth } from './health';

const STATUS_TEXT: Record<PublicHealth['status'], string> = {
  ok: 'Running',
  degraded: 'Running, but Claude is not answering reliably',
  error: 'Cannot save answers (database or disk problem)',
};

const UPSTREAM_TEXT: Record<string, string> = {
  unknown: 'not asked yet',
  ok: 'answering',
  degraded: 'failing lately (the service log says why)',
  unreachable: 'unreachable — check the network and claude.upstreamUrl',
};

/** The service's home page: is Perch up, and how to talk to it. */
export function ServiceHome() {
  const [health, setHealth] = useState<PublicHealth | undefined>();
  const [failure, setFailure] = useState<string | undefined>();
  const origin = window.location.origin;

  useEffect(() => {
    const controller = new AbortController();
    fetchHealth(controller.signal).then(setHealth, (error: unknown) => {
      if (!controller.signal.aborted) setFailure(error instanceof Error ? error.message : String(error));
    });
    return () => controller.abort();
  }, []);

  return (
    <main className="home">
      <header>
        <h1>Perch</h1>
        <p className="tagline">Claude, always at hand.</p>
      </header>
      <section aria-labelledby="status-heading" className="card">
        <h2 id="status-heading">Service</h2>
        {health ? (
          <dl>
            <dt>Status</dt>
            <dd data-status={health.status}>{STATUS_TEXT[health.status]}</dd>
            <dt>Version</dt>
            <dd>{health.version}</dd>
            <dt>Claude</dt>
            <dd>{UPSTREAM_TEXT[health.checks.upstream] ?? health.checks.upstream}</dd>
          </dl>
        ) : failure ? (
          <p role="alert">Perch is not answering: {failure}</p>
        ) : (
          <p aria-busy="true">Checking…</p>
        )}
      </section>
      <section aria-labelledby="connect-heading" className="card">
        <h2 id="connect-heading">Ask from a terminal</h2>
        <pre>
          <code>{`TOKEN=$(npx perch token)
curl -s ${origin}/api/v1/chat \\
  -H "Authorization: Bearer $TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{"message": "Hello, Claude"}'`}</code>
        </pre>
        <p>
          Every route is described in the README. The token stays on this machine; the Anthropic API key never leaves the Perch
          service.
        </p>
      </section>
    </main>
  );
}
