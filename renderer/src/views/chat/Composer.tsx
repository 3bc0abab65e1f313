import { useRef, useState, type ClipboardEvent, type DragEvent, type KeyboardEvent, type ReactNode } from 'react';
import { toUpload } from '../../answers/attachments';
import type { AttachmentUpload } from '../../api/types';

/** Files waiting to be sent, added by the Attach button, a drop or a paste. */
export function useAttachments(maxUploadMb: number) {
  const [files, setFiles] = useState<AttachmentUpload[]>([]);
  const [problem, setProblem] = useState<string | undefined>();
  const addFiles = async (list: FileList | File[]): Promise<void> => {
    setProblem(undefined);
    for (const file of Array.from(list)) {
      try {
        const upload = await toUpload(file, maxUploadMb);
        setFiles((current) => [...current, upload]);
      } catch (error) {
        setProblem((error as Error).message);
      }
    }
  };
  const clear = (): void => {
    setFiles([]);
    setProblem(undefined);
  };
  const remove = (index: number): void => setFiles((current) => current.filter((_, position) => position !== index));
  return { files, problem, addFiles, clear, remove };
}

export type Attachments = ReturnType<typeof useAttachments>;

interface ComposerProps {
  streaming: boolean;
  attachments: Attachments;
  onSend: (text: string, attachments: AttachmentUpload[]) => void;
  onStop: () => void;
  /** Extra controls shown beside the buttons (the model picker). */
  children?: ReactNode;
}

import { isSendKey } from '../../app/keyboard';

/**
 * The message box: Enter sends, Shift+Enter adds a line; files come by the Attach button,
 * by dropping them anywhere on the conversation, or by pasting.
 */
export function Composer({ streaming, attachments, onSend, onStop, children }: ComposerProps) {
  const [text, setText] = useState('');
  const picker = useRef<HTMLInputElement>(null);
  const { files, problem, addFiles, clear, remove } = attachments;

  const send = (): void => {
    if (streaming || (text.trim() === '' && files.length === 0)) return;
    onSend(text, files);
    setText('');
    clear();
  };

  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>): void => {
    if (isSendKey(event)) {
      event.preventDefault();
      send();
    }
  };

  const onPaste = (event: ClipboardEvent<HTMLTextAreaElement>): void => {
    if (event.clipboardData.files.length > 0) {
      event.preventDefault();
      void addFiles(event.clipboardData.files);
    }
  };

  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        send();
      }}
    >
      {files.length > 0 && (
        <ul className="attachment-chips" aria-label="Files to send">
          {files.map((file, index) => (
            <li key={`${file.name}-${index}`} className="chip">
              📎 {file.name}
              <button className="chip-remove" type="button" aria-label={`Remove ${file.name}`} onClick={() => remove(index)}>
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {problem && (
        <div className="notice error" role="alert">
          {problem}
        </div>
      )}
      <textarea
        className="composer-input"
        aria-label="Message"
        placeholder="Message Claude (Enter to send, Shift+Enter for a new line)"
        rows={2}
        value={text}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      <div className="composer-bar">
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          onChange={(event) => {
            if (event.target.files) void addFiles(event.target.files);
            event.target.value = '';
          }}
        />
        <button className="button quiet" type="button" onClick={() => picker.current?.click()}>
          Attach files
        </button>
        <div className="composer-extra">{children}</div>
        {streaming ? (
          <button className="button" type="button" onClick={onStop}>
            Stop
          </button>
        ) : (
          <button className="button primary" type="submit" disabled={text.trim() === '' && files.length === 0}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}

/** Accepts files dropped anywhere on the conversation. */
export function dropHandlers(onFiles: (files: FileList) => void): {
  onDragOver: (event: DragEvent) => void;
  onDrop: (event: DragEvent) => void;
} {
  return {
    onDragOver: (event) => {
      if (event.dataTransfer.types.includes('Files')) event.preventDefault();
    },
    onDrop: (event) => {
      if (event.dataTransfer.files.length === 0) return;
      event.preventDefault();
      onFiles(event.dataTransfer.files);
    },
  };
}
