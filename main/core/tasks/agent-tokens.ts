import { createHash, randomBytes } from 'node:crypto';

const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

/**
 * Credentials for the agents of running tasks. An agent runs commands, and a command can read
 * its environment: so it never holds Perch's token (which opens the whole API) nor the
 * Anthropic key, only one of these. Each is good for the Messages relay alone, names its task
 * (so what it spends is recorded as the task's), and dies with the agent's process. Kept in
 * memory only: a restarted Perch has no agents to honour.
 */
export class AgentTokens {
  /** sha-256 of a token → its task: a lookup that reveals nothing by its timing. */
  private readonly tasks = new Map<string, string>();

  issue(taskId: string): string {
    const token = `perch_agent_${randomBytes(32).toString('base64url')}`;
    this.tasks.set(digest(token), taskId);
    return token;
  }

  /** The task whose agent holds `token`, or undefined. */
  taskOf(token: string): string | undefined {
    if (!token.startsWith('perch_agent_')) return undefined;
    return this.tasks.get(digest(token));
  }

  revoke(token: string): void {
    this.tasks.delete(digest(token));
  }
}
