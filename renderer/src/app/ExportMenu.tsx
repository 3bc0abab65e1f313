import { useState } from 'react';
import { messageOf } from '../api/client';
import { useApi } from './api-context';

/** "Export" with its two formats: Markdown to read, JSON with everything. Downloads through the API. */
export function ExportMenu({ path, what }: { path: string; what: string }) {
  const { api } = useApi();
  const [problem, setProblem] = useState<string | undefined>();
  const download = (format: 'md' | 'json'): void => {
    setProblem(undefined);
    api.download(`${path}?format=${format}`, `perch-export.${format}`).catch((error: unknown) => {
      setProblem(messageOf(error, 'The download failed.'));
    });
  };
  return (
    <details className="menu export-menu">
      <summary className="button quiet">Export</summary>
      <div className="menu-items" role="group" aria-label={`Export ${what}`}>
        <button className="button quiet" type="button" onClick={() => download('md')}>
          Markdown
        </button>
        <button className="button quiet" type="button" onClick={() => download('json')}>
          JSON
        </button>
        {problem && (
          <p className="hint problem" role="alert">
            {problem}
          </p>
        )}
      </div>
    </details>
  );
}
