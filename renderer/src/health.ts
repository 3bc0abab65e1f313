/** The public health report (`GET /api/v1/health`): no token needed, nothing secret in it. */
export interface PublicHealth {
  status: 'ok' | 'degraded' | 'error';
  version: string;
  checks: { database: string; disk: string; upstream: string };
}

export async function fetchHealth(signal?: AbortSignal): Promise<PublicHealth> {
  const response = await fetch('/api/v1/health', { signal, headers: { Accept: 'application/json' } });
  return (await response.json()) as PublicHealth;
}
