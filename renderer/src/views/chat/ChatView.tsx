import { useCallback, useEffect, useMemo, useRef, useState, type Dispatch, type SetStateAction } from 'react';
import { DEFAULT_MAX_UPLOAD_MB, previewOf } from '../../answers/attachments';
import { ErrorNotice } from '../../answers/ErrorNotice';
import { formatCost } from '../../answers/format';
import { AnswerStatus } from '../../answers/AnswerStatus';
import { ApiError } from '../../api/client';
import type {
  AttachmentUpload,
  ChatRequest,
  Message,
  ModelList,
  Session,
  SessionList,
  SessionWithMessages,
  SettingsResponse,
} from '../../api/types';
import { useApi } from '../../app/api-context';
import { ExportMenu } from '../../app/ExportMenu';
import { chatHref, navigate } from '../../app/router';
import { Composer, MESSAGE_BOX_ID, useAttachments, useDropZone } from './Composer';
import { AnswerActions, AnswerBody, MessageView, UserBubble } from './MessageView';
import { Sidebar } from './Sidebar';
import { sessionOf, useChatTurns, type LiveTurn } from './use-chat-turns';
import { useStickToBottom } from './use-stick-to-bottom';
import './chat.css';

const PAGE = 50;
const NO_MESSAGES: Message[] = [];
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

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

/**
 * The saved messages to show beside a turn still on its way: those before its question (the
 * service saves the question, and the answer as it grows, while the turn streams).
 */
function beforeTurn(messages: Message[], turn: LiveTurn | undefined): Message[] {
  if (!turn) return messages;
  let end = messages.length;
  const replaced = turn.replaceFrom ? messages.findIndex((message) => message.id === turn.replaceFrom) : -1;
  if (replaced >= 0) end = replaced;
  const answer = messages.findIndex((message) => message.id === turn.answer.messageId);
  const streaming = answer >= 0 ? answer : messages.map((message) => message.status).lastIndexOf('streaming');
  if (streaming >= 0) end = Math.min(end, messages[streaming - 1]?.role === 'user' ? streaming - 1 : streaming);
  return end === messages.length ? messages : messages.slice(0, end);
}

/** The question an answer answered: the user message just before it. */
const questionBefore = (messages: Message[], answer: Message): Message | undefined => {
  const index = messages.indexOf(answer);
  return index > 0 && messages[index - 1]?.role === 'user' ? messages[index - 1] : undefined;
};

const DRAFT_KEY = 'perch.chat.draft';

/**
 * The message box's text, kept for this tab: a question typed before a trip to Settings (to add
 * the key, say) is still there on the way back.
 */
function useDraft(): [string, Dispatch<SetStateAction<string>>] {
  const [draft, setDraft] = useState(() => {
    try {
      return sessionStorage.getItem(DRAFT_KEY) ?? '';
    } catch {
      return '';
    }
  });
  useEffect(() => {
    try {
      if (draft) sessionStorage.setItem(DRAFT_KEY, draft);
      else sessionStorage.removeItem(DRAFT_KEY);
    } catch {
      // Storage may be off (a private window's quota): the draft then lives as long as the view.
    }
  }, [draft]);
  return [draft, setDraft];
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
  // Unknown until the settings arrive: the no-key notice waits for them rather than flash.
  const [keyConfigured, setKeyConfigured] = useState<boolean | undefined>();
  // A question the service refused outright (nothing was saved): said where it was asked.
  const [refusal, setRefusal] = useState<{ at: string | undefined; error: { type: string; message: string } }>();
  const [draft, setDraft] = useDraft();
  // On narrow windows the sessions slide over the conversation; opening another session closes them.
  const [sidebarOpenAt, setSidebarOpenAt] = useState<string | undefined>();
  const sidebarOpen = sidebarOpenAt !== undefined && sidebarOpenAt === (sessionId ?? '');
  const { turns, ask, stop, forget } = useChatTurns();
  const attachments = useAttachments(maxUploadMb);
  const { restore: restoreFiles } = attachments;
  const drop = useDropZone((files) => void attachments.addFiles(files));
  const { scrollerRef, contentRef, atBottom, jumpToLatest } = useStickToBottom<HTMLElement, HTMLDivElement>();
  const messageBox = useRef<HTMLTextAreaElement>(null);
  const sidebarToggle = useRef<HTMLButtonElement>(null);
  // The conversation on screen, for answers that finish after the person went elsewhere.
  const shownSession = useRef(sessionId);
  useEffect(() => {
    shownSession.current = sessionId;
  }, [sessionId]);
  // Where each new chat was asked from: its first event moves the address there only if the person stayed.
  const askedFrom = useRef(new Map<string, string>());

  const refreshSessions = useCallback(async () => {
    setSessions(await api.get<SessionList>(`/api/v1/sessions?limit=${PAGE}`));
  }, [api]);

  const oldestSession = sessions.sessions.at(-1)?.id;
  const loadMore = useCallback(async (): Promise<void> => {
    if (!oldestSession) return;
    const page = await api.get<SessionList>(`/api/v1/sessions?limit=${PAGE}&before=${encodeURIComponent(oldestSession)}`);
    setSessions((known) => ({ sessions: [...known.sessions, ...page.sessions], has_more: page.has_more }));
  }, [api, oldestSession]);

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

  // Opening a conversation loads its messages and puts the cursor in the message box.
  useEffect(() => {
    messageBox.current?.focus();
    if (!sessionId) return;
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
  }, [api, sessionId]);

  /** A session as saved, once its last answer has been written (a stopped one takes a moment). */
  const loadSettled = useCallback(
    async (id: string): Promise<SessionWithMessages | undefined> => {
      for (let attempt = 0; attempt < 20; attempt += 1) {
        const session = await api.get<SessionWithMessages>(`/api/v1/sessions/${encodeURIComponent(id)}`).catch(() => undefined);
        if (!session || session.messages.at(-1)?.status !== 'streaming') return session;
        await sleep(100);
      }
      return undefined;
    },
    [api],
  );

  /**
   * Asks, and once the answer is over shows the conversation as saved (with usage and cost).
   * A question the service refused outright goes back into the message box with the reason.
   */
  const submit = useCallback(
    async (request: ChatRequest, question: LiveTurn['question']): Promise<void> => {
      setRefusal(undefined);
      const address = window.location.hash;
      const turn = await ask(request, question, (key) => askedFrom.current.set(key, address));
      // Where the person was when it was asked (a new chat's own address once its id came).
      const from = askedFrom.current.get(turn.key) ?? address;
      askedFrom.current.delete(turn.key);
      const { answer } = turn;
      const answeredIn = answer.sessionId ?? request.session_id;
      if (answer.messageId === undefined && answer.error) {
        forget(turn.key);
        setRefusal({ at: request.session_id, error: answer.error });
        if (answer.error.type === 'no_api_key') setKeyConfigured(false);
        setDraft((current) => (current.trim() === '' ? question.text : current));
        restoreFiles(question.files);
        return;
      }
      const session = answeredIn ? await loadSettled(answeredIn) : undefined;
      // Saved, it replaces the turn; if it could not be read, the turn stays on screen as it ended.
      if (session && answeredIn) {
        const here = chatHref(answeredIn);
        // A person who stayed where they asked sees the conversation; one who left is not pulled back.
        const stayed = window.location.hash === from || window.location.hash === here;
        if (stayed) navigate(here);
        if (stayed || shownSession.current === answeredIn) setLoaded({ id: answeredIn, session });
        forget(turn.key);
      }
      await refreshSessions().catch(() => undefined);
    },
    [ask, forget, loadSettled, refreshSessions, restoreFiles, setDraft],
  );

  // A new chat's id arrives with its first event: show it in the address bar at once, if the person is still there.
  useEffect(() => {
    for (const turn of turns) {
      const from = askedFrom.current.get(turn.key);
      const id = turn.answer.sessionId;
      if (!turn.askedIn && id && from !== undefined && from !== chatHref(id)) {
        askedFrom.current.set(turn.key, chatHref(id));
        if (window.location.hash === from) navigate(chatHref(id));
        void refreshSessions().catch(() => undefined);
      }
    }
  }, [turns, refreshSessions]);

  const send = (text: string, files: AttachmentUpload[]): void => {
    // Without a key the answer cannot come: the notice above says so, and the question stays in the box.
    if (keyConfigured === false) return;
    setDraft('');
    attachments.clear();
    void submit(
      {
        message: text,
        ...(sessionId ? { session_id: sessionId } : {}),
        ...(chosenModel ? { model: chosenModel } : {}),
        ...(files.length ? { attachments: files } : {}),
      },
      { text, files },
    );
  };

  // Stable, like the rest of the sidebar's props: it does not redraw its list on every frame of an answer.
  const rename = useCallback(
    async (session: Session, title: string): Promise<void> => {
      const renamed = await api.request<Session>('PATCH', `/api/v1/sessions/${encodeURIComponent(session.id)}`, { title });
      await refreshSessions();
      setLoaded((current) =>
        current?.session && current.id === session.id ? { ...current, session: { ...current.session, ...renamed } } : current,
      );
    },
    [api, refreshSessions],
  );

  const remove = useCallback(
    async (session: Session): Promise<void> => {
      await api.request('DELETE', `/api/v1/sessions/${encodeURIComponent(session.id)}`);
      if (session.id === shownSession.current) navigate(chatHref());
      await refreshSessions();
    },
    [api, refreshSessions],
  );

  const onNewChat = useCallback(() => {
    setSidebarOpenAt(undefined);
    messageBox.current?.focus();
  }, []);
  const onLoadMore = useCallback(() => void loadMore(), [loadMore]);

  // Everything shown belongs to the session in the address bar.
  const current = sessionId && loaded?.id === sessionId ? loaded.session : undefined;
  const loadError = sessionId && loaded?.id === sessionId ? loaded.error : undefined;
  const live = turns.filter((turn) => (sessionId ? sessionOf(turn) === sessionId : sessionOf(turn) === undefined)).at(-1);
  const streamingHere = live?.answer.streaming === true;
  const messages = useMemo(() => beforeTurn(current?.messages ?? NO_MESSAGES, live), [current, live]);
  const totals = useMemo(() => sessionTotals(messages), [messages]);
  const modelValue = chosenModel || current?.model || models?.default_model || '';
  const title = current?.title || (live ? live.question.text.slice(0, 60) : '') || 'New chat';
  // Keyed by the ids themselves, so a frame of an answer does not make a new set.
  const busyKey = turns
    .filter((turn) => turn.answer.streaming)
    .flatMap((turn) => sessionOf(turn) ?? [])
    .join(' ');
  const busySessions = useMemo(() => new Set(busyKey.split(' ').filter(Boolean)), [busyKey]);
  const shownRefusal = refusal && refusal.at === sessionId ? refusal.error : undefined;
  const idle = !live && current !== undefined;

  // Edit, retry and regenerate ask again in place of a saved question (the service drops what followed).
  const askAgain = useCallback(
    (question: Message, text: string) => {
      if (!sessionId) return;
      void submit(
        { message: text, session_id: sessionId, replace_from: question.id, ...(chosenModel ? { model: chosenModel } : {}) },
        { text, files: [] },
      );
    },
    [sessionId, chosenModel, submit],
  );
  const onAskAgain = useCallback(
    (answer: Message) => {
      const question = questionBefore(current?.messages ?? NO_MESSAGES, answer);
      if (question) askAgain(question, question.content);
    },
    [current, askAgain],
  );
  const lastAnswer = messages.at(-1)?.role === 'assistant' ? messages.at(-1) : undefined;

  // Esc stops the answer on screen (as in quick ask) or closes the sessions drawer on a phone.
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent): void => {
      if (event.key !== 'Escape' || event.defaultPrevented) return;
      if (sidebarOpen) {
        setSidebarOpenAt(undefined);
        sidebarToggle.current?.focus();
      } else if (live?.answer.streaming) {
        stop(live.key);
      } else {
        return;
      }
      event.preventDefault();
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [sidebarOpen, live, stop]);

  // The drawer takes focus when it opens, so a keyboard lands in it.
  useEffect(() => {
    if (sidebarOpen) document.querySelector<HTMLElement>('.sidebar .new-chat')?.focus();
  }, [sidebarOpen]);

  return (
    <div className={`chat${sidebarOpen ? ' sidebar-open' : ''}`}>
      <a
        className="skip-link"
        href={`#${MESSAGE_BOX_ID}`}
        onClick={(event) => {
          // The address is the app's route: move the focus without changing it.
          event.preventDefault();
          messageBox.current?.focus();
        }}
      >
        Skip to the message box
      </a>
      <Sidebar
        sessions={sessions.sessions}
        hasMore={sessions.has_more}
        activeId={sessionId}
        busyIds={busySessions}
        onNewChat={onNewChat}
        onLoadMore={onLoadMore}
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
      <main className={`conversation${drop.dragging ? ' dropping' : ''}`} {...drop.handlers}>
        <header className="conversation-header">
          <button
            ref={sidebarToggle}
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
        {keyConfigured === false && (
          <div className="notice error no-key" role="alert">
            Claude cannot answer yet: Perch has no Anthropic API key. Add yours in <a href="#/settings/claude">Settings</a> (or
            run <code>npx perch config set apiKey -</code>), then ask.
          </div>
        )}
        <section className="messages" ref={scrollerRef} aria-label="Conversation" aria-busy={streamingHere}>
          <div className="messages-content" ref={contentRef}>
            {loadError && <ErrorNotice error={loadError} />}
            {!loadError && messages.length === 0 && !live && (
              <div className="empty-conversation">
                <p>Ask anything. Drop files here to include them.</p>
              </div>
            )}
            {messages.map((message) => (
              <MessageView
                key={message.id}
                message={message}
                onEdit={idle && message.role === 'user' ? askAgain : undefined}
                onAskAgain={idle && message === lastAnswer ? onAskAgain : undefined}
              />
            ))}
            {live && (
              <>
                <UserBubble
                  text={live.question.text}
                  attachments={live.question.files.map((file) => ({ name: file.name, preview: previewOf(file) }))}
                />
                <article className="message assistant" aria-label="Claude">
                  {live.answer.text && <AnswerBody text={live.answer.text} streaming={live.answer.streaming} />}
                  {live.answer.streaming && !live.answer.text && <p className="message-note">Claude is thinking…</p>}
                  {live.answer.stopped && <p className="message-note">Stopped. What arrived is saved.</p>}
                  {live.answer.error && <ErrorNotice error={live.answer.error} />}
                  {!live.answer.streaming && (
                    <AnswerActions
                      text={live.answer.text}
                      again={{
                        label: 'Retry',
                        run: () => {
                          forget(live.key);
                          void submit(
                            {
                              message: live.question.text,
                              ...(sessionOf(live) ? { session_id: sessionOf(live) } : {}),
                              ...(live.question.files.length ? { attachments: live.question.files } : {}),
                            },
                            live.question,
                          );
                        },
                      }}
                    />
                  )}
                </article>
              </>
            )}
            {shownRefusal && <ErrorNotice error={shownRefusal} />}
          </div>
        </section>
        {!atBottom && (
          <button className="button jump-latest" type="button" onClick={jumpToLatest}>
            Jump to latest ↓
          </button>
        )}
        {drop.dragging && (
          <div className="drop-overlay" aria-hidden="true">
            Drop to attach: text and code files, images, PDFs
          </div>
        )}
        <Composer
          text={draft}
          onTextChange={setDraft}
          streaming={streamingHere}
          attachments={attachments}
          inputRef={messageBox}
          onSend={send}
          onStop={() => live && stop(live.key)}
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
        <AnswerStatus answer={live?.answer ?? { streaming: false }} />
      </main>
    </div>
  );
}
