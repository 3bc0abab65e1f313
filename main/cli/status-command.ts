import type { Output } from './output.js';
import { ServiceClient, ServiceDownError, ServiceError } from './service-client.js';

interface Status {
  status: string;
  version: string;
  pid: number;
  uptime_seconds: number;
  listening: { url: string };
  model: string;
  api_key: { configured: boolean; source: string | null };
  history: { sessions: number; messages: number };
}

function formatUptime(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
}

/**
 * `perch status`: is the service up, where, with which model, and does Claude answer (checked
 * through the model list, which the service caches). Exit 0 only when the service is up.
 */
export async function status(dataDir: string, env: NodeJS.ProcessEnv, options: { json?: boolean }, out: Output): Promise<number> {
  let client: ServiceClient;
  let details: Status;
  try {
    client = ServiceClient.forDataDir(dataDir, env);
    details = await client.get<Status>('/api/v1/status');
  } catch (error) {
    if (!(error instanceof ServiceDownError)) throw error;
    if (options.json) out.stdout(JSON.stringify({ running: false, url: error.url ?? null, reason: error.message }, null, 2));
    else out.stdout(error.message);
    return 1;
  }
  let upstream: { reachable: boolean; models?: number; message?: string };
  try {
    const { models } = await client.get<{ models: unknown[] }>('/api/v1/models');
    upstream = { reachable: true, models: models.length };
  } catch (error) {
    upstream = { reachable: false, message: error instanceof ServiceError ? error.message : String(error) };
  }
  if (options.json) {
    out.stdout(JSON.stringify({ running: true, url: details.listening.url, ...details, upstream }, null, 2));
    return 0;
  }
  out.stdout(
    `Perch ${details.version} is running at ${details.listening.url} (pid ${details.pid}, up ${formatUptime(details.uptime_seconds)})`,
  );
  out.stdout(`  Model:    ${details.model}`);
  out.stdout(
    `  API key:  ${details.api_key.configured ? `set${details.api_key.source === 'environment' ? ' (from ANTHROPIC_API_KEY)' : ''}` : 'not set'}`,
  );
  out.stdout(
    `  Claude:   ${upstream.reachable ? `reachable (${upstream.models} models)` : `not reachable — ${upstream.message}`}`,
  );
  out.stdout(`  History:  ${details.history.sessions} sessions, ${details.history.messages} messages`);
  return 0;
}
