import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { DEFAULT_MAX_UPLOAD_MB } from '../../answers/attachments';
import { ErrorNotice } from '../../answers/ErrorNotice';
import { formatCost } from '../../answers/format';
import { AnswerStatus } from '../../answers/AnswerStatus';
import { useAnswerStream } from '../../answers/use-answer-stream';
import { ApiError } from '../../api/client';
import type {
  AttachmentUpload,
  Message,
  ModelList,
  Session,
  SessionList,
  SessionWithMessages,
  SettingsResponse,
} from '../../api/types';
import { useApi } from '../../app/api-context';
import { chatHref, navigate } from '../../app/router';
import { Composer, dropHandlers, useAttachments } from './Composer';
import { AnswerBody, MessageView, UserBubble } from './MessageView';
import { ExportMenu } from '../../app/ExportMenu';
import { Sidebar } from './Sidebar';
import { useStickToBottom } from './use-stick-to-bottom';
import './chat.css';

const PAGE = 50;
const NO_MESSAGES: Message[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface PendingTurn {
  text: string;
  attachments: string[];
}

function sessionTotals(messages: Message[]): { tokens: number; cost: number; known: boolean } {
  let tokens = 0;
  let cost = 0;
  let known = true;
  for (const message of messages) {
    if (!message.usage) continue;
    tokens += message.usage.input_tokens + message.usage.output_tokens;
    if (message.cost_usd === null) known = false;
    else cost += message.cost_usd;
  }
  return { tokens, cost, known };
}

/** The chat window: saved sessions on the left, the conversation and the message box on the right. */
export default function ChatView({ sessionId }: { sessionId?: string | undefined }) {
  const { api } = useApi();
  const [sessions, setSessions] = useState<SessionList>({ sessions: [], has_more: false });
  const [loaded, setLoaded] = useState<{
    id: string;
    session?: SessionWithMessages;
    error?: { type: string; message: string };
  }>();
  const [models, setModels] = useState<ModelList | undefined>();
  const [chosenModel, setChosenModel] = useState<string>('');
  const [maxUploadMb, setMaxUploadMb] = useState(DEFAULT_MAX_UPLOAD_MB);
  // Unknown until the settings arrive; a send before then checks first.
  const [keyConfigured, setKeyConfigured] = useState<boolean | undefined>();
  const [noKey, setNoKey] = useState(false);
  const [pending, setPending] = useState<PendingTurn | undefined>();
  // On narrow windows the sessions slide over the conversation; opening another session closes them.
  const [sidebarOpenAt, setSidebarOpenAt] = useState<string | undefined>();
  const sidebarOpen = sidebarOpenAt !== undefined && sidebarOpenAt === (sessionId ?? '');
  const { answer, ask, stop } = useAnswerStream();
  const attachments = useAttachments(maxUploadMb);
  const { scrollerRef, contentRef, atBottom, jumpToLatest } = useStickToBottom<HTMLElement, HTMLDivElement>();
  // Where this view last put the person (or found them) while answering: an answer that
  // finishes after they went elsewhere must not pull them back.
  const answerAddress = useRef<string | undefined>(undefined);

  const refreshSessions = useCallback(async () => {
    setSessions(await api.get<SessionList>(`/api/v1/sessions?limit=${PAGE}`));
  }, [api]);

  const loadMore = async (): Promise<void> => {
    const last = sessions.sessions.at(-1);
    if (!last) return;
    const page = await api.get<SessionList>(`/api/v1/sessions?limit=${PAGE}&before=${encodeURIComponent(last.id)}`);
    setSessions((known) => ({ sessions: [...known.sessions, ...page.sessions], has_more: page.has_more }));
  };

  /** What this view needs from the settings; the model list exists only once there is a key. */
  const applySettings = useCallback(
    (settings: SettingsResponse): boolean => {
      setMaxUploadMb(settings.effective.api.maxUploadMb);
      setKeyConfigured(settings.api_key.configured);
      if (settings.api_key.configured) api.get<ModelList>('/api/v1/models').then(setModels, () => setModels(undefined));
      return settings.api_key.configured;
    },
    [api],
  );

  useEffect(() => {
    const controller = new AbortController();
    api.get<SessionList>(`/api/v1/sessions?limit=${PAGE}`, controller.signal).then(setSessions, () => undefined);
    api.get<SettingsResponse>('/api/v1/settings', controller.signal).then(applySettings, () => undefined);
    return () => controller.abort();
  }, [api, applySettings]);

  // Opening a session loads its messages, unless it is the one being answered right now.
  const answering = answer.streaming && answer.sessionId === sessionId;
  useEffect(() => {
    if (!sessionId || answering) return;
    const controller = new AbortController();
    api.get<SessionWithMessages>(`/api/v1/sessions/${encodeURIComponent(sessionId)}`, controller.signal).then(
      (session) => setLoaded({ id: sessionId, session }),
      (error: unknown) => {
        if ((error as Error).name === 'AbortError') return;
        const problem =
          error instanceof ApiError ? { type: error.type, message: error.message } : { type: 'error', message: String(error) };
        setLoaded({ id: sessionId, error: problem });
      },
    );
    return () => controller.abort();
  }, [api, sessionId, answering]);

  /** A session as saved, once its last answer has been written (a stopped one takes a moment). */
  const loadSettled = async (id: string): Promise<SessionWithMessages | undefined> => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const session = await api.get<SessionWithMessages>(`/api/v1/sessions/${encodeURIComponent(id)}`).catch(() => undefined);
      if (!session || session.messages.at(-1)?.status !== 'streaming') return session;
      await sleep(100);
    }
    return undefined;
  };

  const send = async (text: string, files: AttachmentUpload[]): Promise<void> => {
    // Without a key the answer cannot come: say so (and where to fix it) instead of asking.
    if (keyConfigured !== true) {
      const settings = await api.get<SettingsResponse>('/api/v1/settings').catch(() => undefined);
      if (!settings || !applySettings(settings)) {
        setNoKey(true);
        return;
      }
    }
    setNoKey(false);
    answerAddress.current = window.location.hash;
    setPending({ text, attachments: files.map((file) => file.name) });
    const result = await ask({
      message: text,
      ...(sessionId ? { session_id: sessionId } : {}),
      ...(chosenModel ? { model: chosenModel } : {}),
      ...(files.length ? { attachments: files } : {}),
    });
    const answeredIn = result.sessionId ?? sessionId;
    if (answeredIn) {
      // The saved version (with usage and cost) replaces what streamed in.
      const session = await loadSettled(answeredIn);
      if (session) {
        setLoaded({ id: answeredIn, session });
        setPending(undefined);
      }
      if (window.location.hash === answerAddress.current) navigate(chatHref(answeredIn));
    }
    await refreshSessions().catch(() => undefined);
  };

  // A new session's id arrives with the first event: show it in the address bar at once.
  useEffect(() => {
    if (answer.streaming && answer.sessionId && !sessionId && window.location.hash === answerAddress.current) {
      answerAddress.current = chatHref(answer.sessionId);
      navigate(answerAddress.current);
    }
  }, [answer.streaming, answer.sessionId, sessionId]);

  const rename = async (session: Session, title: string): Promise<void> => {
    const renamed = await api.request<Session>('PATCH', `/api/v1/sessions/${encodeURIComponent(session.id)}`, { title });
    await refreshSessions();
    setLoaded((current) =>
      current?.session && current.id === session.id ? { ...current, session: { ...current.session, ...renamed } } : current,
    );
  };

  const remove = async (session: Session): Promise<void> => {
    await api.request('DELETE', `/api/v1/sessions/${encodeURIComponent(session.id)}`);
    if (session.id === sessionId) navigate(chatHref());
    await refreshSessions();
  };

  // Everything shown belongs to the session in the address bar.
  const current = sessionId && loaded?.id === sessionId ? loaded.session : undefined;
  const loadError = sessionId && loaded?.id === sessionId ? loaded.error : undefined;
  const messages = current?.messages ?? NO_MESSAGES;
  const totals = useMemo(() => sessionTotals(messages), [messages]);
  const pendingHere = answer.sessionId === undefined ? !sessionId || answer.streaming : answer.sessionId === sessionId;
  const showPending = pending !== undefined && pendingHere;
  const modelValue = chosenModel || current?.model || models?.default_model || '';
  const title = current?.title || (showPending ? pending.text.slice(0, 60) : '') || 'New chat';

  return (
    <div className={`chat${sidebarOpen ? ' sidebar-open' : ''}`}>
      <Sidebar
        sessions={sessions.sessions}
        hasMore={sessions.has_more}
        activeId={sessionId}
        onLoadMore={() => void loadMore()}
        onRename={rename}
        onDelete={remove}
      />
      {sidebarOpen && (
        <button
          className="sidebar-backdrop"
          type="button"
          aria-label="Close sessions"
          onClick={() => setSidebarOpenAt(undefined)}
        />
      )}
      <main className="conversation" {...dropHandlers((files) => void attachments.addFiles(files))}>
        <header className="conversation-header">
          <button
            className="button quiet sidebar-toggle"
            type="button"
            aria-expanded={sidebarOpen}
            onClick={() => setSidebarOpenAt(sidebarOpen ? undefined : (sessionId ?? ''))}
          >
            ☰<span className="visually-hidden">Sessions</span>
          </button>
          <h1 className="conversation-title">{title}</h1>
          {totals.tokens > 0 && (
            <span className="session-total" title="Tokens and estimated cost of this session">
              {totals.tokens.toLocaleString()} tokens · {totals.known ? formatCost(totals.cost) : `≥ ${formatCost(totals.cost)}`}
            </span>
          )}
          {current && messages.length > 0 && (
            <ExportMenu path={`/api/v1/sessions/${encodeURIComponent(current.id)}/export`} what="this conversation" />
          )}
        </header>
        <section className="messages" ref={scrollerRef} aria-label="Conversation" aria-busy={answer.streaming}>
          <div className="messages-content" ref={contentRef}>
            {loadError && <ErrorNotice error={loadError} />}
            {noKey && <ErrorNotice error={{ type: 'no_api_key', message: 'No API key is configured yet.' }} />}
            {!loadError && messages.length === 0 && !showPending && (
              <div className="empty-conversation">
                <p>Ask anything. Drop files here to include them.</p>
              </div>
            )}
            {messages.map((message) => (
              <MessageView key={message.id} message={message} />
            ))}
            {showPending && (
              <>
                <UserBubble text={pending.text} attachments={pending.attachments} />
                <article className="message assistant" aria-label="Claude">
                  {answer.text && <AnswerBody text={answer.text} streaming={answer.streaming} />}
                  {answer.streaming && !answer.text && <p className="message-note">Claude is thinking…</p>}
                  {answer.stopped && <p className="message-note">Stopped. What arrived is saved.</p>}
                  {answer.error && <ErrorNotice error={answer.error} />}
                </article>
              </>
            )}
          </div>
        </section>
        {!atBottom && (
          <button className="button jump-latest" type="button" onClick={jumpToLatest}>
            Jump to latest ↓
          </button>
        )}
        <Composer
          streaming={answer.streaming}
          attachments={attachments}
          onSend={(text, files) => void send(text, files)}
          onStop={stop}
        >
          {models && models.models.length > 0 && (
            <select
              className="input model-picker"
              aria-label="Model"
              value={modelValue}
              onChange={(event) => setChosenModel(event.target.value)}
            >
              {!models.models.some((model) => model.id === modelValue) && modelValue && (
                <option value={modelValue}>{modelValue}</option>
              )}
              {models.models.map((model) => (
                <option key={model.id} value={model.id}>
                  {model.display_name}
                </option>
              ))}
            </select>
          )}
        </Composer>
        <AnswerStatus answer={answer} />
      </main>
    </div>
  );
}
