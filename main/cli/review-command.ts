import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { printStream } from './ask-command.js';
import type { Output } from './output.js';
import { ServiceClient, ServiceError } from './service-client.js';

const LANGUAGES: Record<string, string> = {
  '.c': 'c',
  '.cc': 'cpp',
  '.cpp': 'cpp',
  '.cs': 'csharp',
  '.css': 'css',
  '.go': 'go',
  '.h': 'c',
  '.hpp': 'cpp',
  '.html': 'html',
  '.java': 'java',
  '.js': 'javascript',
  '.jsx': 'javascript',
  '.kt': 'kotlin',
  '.lua': 'lua',
  '.md': 'markdown',
  '.mjs': 'javascript',
  '.php': 'php',
  '.py': 'python',
  '.rb': 'ruby',
  '.rs': 'rust',
  '.sh': 'bash',
  '.sql': 'sql',
  '.swift': 'swift',
  '.ts': 'typescript',
  '.tsx': 'typescript',
  '.vue': 'vue',
  '.yaml': 'yaml',
  '.yml': 'yaml',
};

/** The language name Claude is told, from the file's extension (or its name, e.g. Dockerfile). */
export function languageOf(file: string): string {
  const extension = path.extname(file).toLowerCase();
  return LANGUAGES[extension] ?? (extension ? extension.slice(1) : path.basename(file).toLowerCase());
}

export interface ReviewOptions {
  focus?: string | undefined;
  model?: string | undefined;
  json?: boolean | undefined;
}

/** `perch review FILE…`: one streamed review per file, headed by its name when there are several. */
export async function review(
  dataDir: string,
  env: NodeJS.ProcessEnv,
  files: string[],
  options: ReviewOptions,
  out: Output,
  signal?: AbortSignal,
): Promise<void> {
  const client = ServiceClient.forDataDir(dataDir, env);
  const sources = files.map((file) => {
    try {
      if (!statSync(file).isFile()) throw new Error('not a file');
      return { file, code: readFileSync(file, 'utf8') };
    } catch {
      throw new ServiceError(400, 'invalid_request_error', `Cannot read ${file}: no such file.`);
    }
  });
  for (const [index, { file, code }] of sources.entries()) {
    const body = {
      code,
      language: languageOf(file),
      filename: path.basename(file),
      ...(options.focus ? { focus: options.focus } : {}),
      ...(options.model ? { model: options.model } : {}),
    };
    if (options.json) {
      out.stdout(
        JSON.stringify({ file, ...(await client.post<Record<string, unknown>>('/api/v1/code/review', body, signal)) }, null, 2),
      );
      continue;
    }
    if (sources.length > 1) out.stdout(`${index > 0 ? '\n' : ''}## ${file}\n`);
    await printStream(client.stream('/api/v1/code/review', body, signal), out);
  }
}
