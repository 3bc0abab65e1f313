import { memo, useEffect, useRef, useState, type SubmitEvent } from 'react';
import { ConfirmDelete } from '../../app/ConfirmDelete';
import { formatWhen } from '../../answers/format';
import type { SearchResults, Session } from '../../api/types';
import { useApi } from '../../app/api-context';
import { chatHref, navigate } from '../../app/router';
import { useNeedsYou } from '../../app/use-needs-you';

interface SidebarProps {
  sessions: Session[];
  hasMore: boolean;
  activeId: string | undefined;
  /** Conversations being answered right now. */
  busyIds: ReadonlySet<string>;
  /** After New chat: the view puts the cursor in the message box. */
  onNewChat: () => void;
  onLoadMore: () => void;
  onRename: (session: Session, title: string) => Promise<void>;
  onDelete: (session: Session) => Promise<void>;
}

function SessionRow({
  session,
  active,
  busy,
  onRename,
  onDelete,
}: {
  session: Session;
  active: boolean;
  busy: boolean;
  onRename: SidebarProps['onRename'];
  onDelete: SidebarProps['onDelete'];
}) {
  const [editing, setEditing] = useState(false);
  const [title, setTitle] = useState(session.title);
  const dialog = useRef<HTMLDialogElement>(null);
  const label = session.title || 'New chat';

  const save = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    await onRename(session, title);
    setEditing(false);
  };

  if (editing) {
    return (
      <li className="session-row editing">
        <form onSubmit={(event) => void save(event)}>
          <input
            className="input"
            aria-label={`New title for ${label}`}
            value={title}
            autoFocus
            onChange={(event) => setTitle(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') {
                event.preventDefault();
                setTitle(session.title);
                setEditing(false);
              }
            }}
          />
        </form>
      </li>
    );
  }
  return (
    <li className={`session-row${active ? ' active' : ''}`}>
      <a className="session-link" href={chatHref(session.id)} aria-current={active ? 'page' : undefined}>
        <span className="session-title">{label}</span>
        <span className="session-when">{busy ? 'Answering…' : formatWhen(session.updated_at)}</span>
      </a>
      <div className="session-actions">
        <button
          className="button quiet icon"
          type="button"
          aria-label={`Rename ${label}`}
          title="Rename"
          onClick={() => {
            setTitle(session.title);
            setEditing(true);
          }}
        >
          ✎
        </button>
        <button
          className="button quiet icon"
          type="button"
          aria-label={`Delete ${label}`}
          title="Delete"
          onClick={() => dialog.current?.showModal()}
        >
          ×
        </button>
      </div>
      <ConfirmDelete
        dialogRef={dialog}
        question={`Delete “${label}”? Its ${session.message_count} messages will be gone for good.`}
        onConfirm={() => void onDelete(session)}
      />
    </li>
  );
}

function SearchResultList({ results, query }: { results: SearchResults['results']; query: string }) {
  if (results.length === 0) return <p className="sidebar-empty">Nothing in your history matches “{query}”.</p>;
  return (
    <ul className="search-results" aria-label="Search results">
      {results.map((result) => (
        <li key={result.message_id}>
          <a className="search-result" href={chatHref(result.session_id)}>
            <span className="session-title">{result.session_title || 'New chat'}</span>
            <span className="search-snippet">
              {result.snippet
                .split(/\*\*(.+?)\*\*/g)
                .map((part, index) => (index % 2 === 1 ? <mark key={index}>{part}</mark> : part))}
            </span>
          </a>
        </li>
      ))}
    </ul>
  );
}

/** Saved sessions, newest first, with search across every message. */
export const Sidebar = memo(function Sidebar({
  sessions,
  hasMore,
  activeId,
  busyIds,
  onNewChat,
  onLoadMore,
  onRename,
  onDelete,
}: SidebarProps) {
  const { api } = useApi();
  const needsYou = useNeedsYou();
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<{ query: string; results: SearchResults['results'] } | undefined>();

  const text = query.trim();
  useEffect(() => {
    if (!text) return;
    const controller = new AbortController();
    // Wait for a pause in typing before asking.
    const timer = setTimeout(() => {
      api.get<SearchResults>(`/api/v1/sessions/search?q=${encodeURIComponent(text)}&limit=30`, controller.signal).then(
        (found) => setResults({ query: text, results: found.results }),
        () => setResults({ query: text, results: [] }),
      );
    }, 150);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, text]);
  // Results show only for the text in the box (an empty box shows the sessions again).
  const shownResults = text && results?.query === text ? results.results : undefined;

  return (
    <nav className="sidebar" aria-label="Sessions">
      <div className="sidebar-top">
        <button
          className="button primary new-chat"
          type="button"
          onClick={() => {
            navigate(chatHref());
            onNewChat();
          }}
        >
          New chat
        </button>
        <input
          className="input"
          type="search"
          aria-label="Search history"
          placeholder="Search history"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
        />
      </div>
      <div className="sidebar-list">
        {shownResults ? (
          <SearchResultList results={shownResults} query={text} />
        ) : sessions.length === 0 ? (
          <p className="sidebar-empty">No conversations yet. Ask something to start one.</p>
        ) : (
          <ul className="session-list">
            {sessions.map((session) => (
              <SessionRow
                key={session.id}
                session={session}
                active={session.id === activeId}
                busy={busyIds.has(session.id)}
                onRename={onRename}
                onDelete={onDelete}
              />
            ))}
            {hasMore && (
              <li>
                <button className="button quiet load-more" type="button" onClick={onLoadMore}>
                  Older conversations
                </button>
              </li>
            )}
          </ul>
        )}
      </div>
      <div className="sidebar-bottom">
        <a className="button quiet" href="#/settings">
          Settings
        </a>
        <a className="button quiet" href="#/tasks">
          Tasks
          {needsYou > 0 && (
            <span className="nav-badge" title="Permission requests waiting for you">
              {needsYou}
              <span className="visually-hidden"> need you</span>
            </span>
          )}
        </a>
        <a className="button quiet" href="#/jobs">
          Jobs
        </a>
        <a className="button quiet" href="#/usage">
          Usage
        </a>
        <a className="button quiet" href="#/quick-ask">
          Quick ask
        </a>
      </div>
    </nav>
  );
});
