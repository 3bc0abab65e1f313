import {
  useCallback,
  useRef,
  useState,
  type ClipboardEvent,
  type DragEvent,
  type KeyboardEvent,
  type ReactNode,
  type RefObject,
} from 'react';
import { PICKER_ACCEPT, previewOf, toUpload } from '../../answers/attachments';
import type { AttachmentUpload } from '../../api/types';
import { isSendKey } from '../../app/keyboard';
import { AttachmentChips } from './MessageView';

/** Files waiting to be sent, added by the Attach button, a drop or a paste. */
export function useAttachments(maxUploadMb: number) {
  const [files, setFiles] = useState<AttachmentUpload[]>([]);
  const [problems, setProblems] = useState<string[]>([]);
  /** Adds what Perch can read; says why for each file it cannot (the rest, and the text, stay). */
  const addFiles = async (list: FileList | File[]): Promise<void> => {
    const refused: string[] = [];
    for (const file of Array.from(list)) {
      try {
        const upload = await toUpload(file, maxUploadMb);
        setFiles((current) => [...current, upload]);
      } catch (error) {
        refused.push((error as Error).message);
      }
    }
    setProblems(refused);
  };
  const clear = (): void => {
    setFiles([]);
    setProblems([]);
  };
  /** Puts files back after a question was refused, so nothing the person chose is lost. */
  const restore = useCallback(
    (restored: AttachmentUpload[]): void => setFiles((current) => (current.length ? current : restored)),
    [],
  );
  const remove = (index: number): void => setFiles((current) => current.filter((_, position) => position !== index));
  return { files, problems, addFiles, clear, restore, remove };
}

export type Attachments = ReturnType<typeof useAttachments>;

interface ComposerProps {
  text: string;
  onTextChange: (text: string) => void;
  /** This conversation is being answered: the button stops it. */
  streaming: boolean;
  attachments: Attachments;
  onSend: (text: string, attachments: AttachmentUpload[]) => void;
  onStop: () => void;
  inputRef: RefObject<HTMLTextAreaElement | null>;
  /** Extra controls shown beside the buttons (the model picker). */
  children?: ReactNode;
}

export const MESSAGE_BOX_ID = 'message-box';

/**
 * The message box: Enter sends, Shift+Enter adds a line, Esc stops an answer; files come by the
 * Attach button, by dropping them anywhere on the conversation, or by pasting.
 */
export function Composer({ text, onTextChange, streaming, attachments, onSend, onStop, inputRef, children }: ComposerProps) {
  const picker = useRef<HTMLInputElement>(null);
  const { files, problems, addFiles, remove } = attachments;
  const empty = text.trim() === '' && files.length === 0;

  const send = (): void => {
    if (streaming || empty) return;
    onSend(text, files);
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
      <AttachmentChips
        label="Files to send"
        attachments={files.map((file) => ({ name: file.name, preview: previewOf(file) }))}
        onRemove={remove}
      />
      {problems.length > 0 && (
        <div className="notice error" role="alert">
          {problems.map((problem) => (
            <p key={problem}>{problem}</p>
          ))}
        </div>
      )}
      <textarea
        ref={inputRef}
        id={MESSAGE_BOX_ID}
        className="composer-input"
        aria-label="Message"
        placeholder="Message Claude (Enter to send, Shift+Enter for a new line)"
        rows={2}
        value={text}
        onChange={(event) => onTextChange(event.target.value)}
        onKeyDown={onKeyDown}
        onPaste={onPaste}
      />
      <div className="composer-bar">
        <input
          ref={picker}
          type="file"
          multiple
          hidden
          accept={PICKER_ACCEPT}
          onChange={(event) => {
            if (event.target.files) void addFiles(event.target.files);
            event.target.value = '';
          }}
        />
        <button
          className="button quiet"
          type="button"
          title="Text and code files, images (PNG, JPEG, GIF, WebP) and PDFs"
          onClick={() => picker.current?.click()}
        >
          Attach files
        </button>
        <div className="composer-extra">{children}</div>
        {streaming ? (
          <button className="button" type="button" onClick={onStop} title="Stop the answer (Esc)">
            Stop
          </button>
        ) : (
          <button className="button primary" type="submit" disabled={empty}>
            Send
          </button>
        )}
      </div>
    </form>
  );
}

/** Accepts files dropped anywhere on the conversation, and says where they will go while they are dragged over it. */
export function useDropZone(onFiles: (files: FileList) => void): {
  dragging: boolean;
  handlers: {
    onDragEnter: (event: DragEvent) => void;
    onDragOver: (event: DragEvent) => void;
    onDragLeave: (event: DragEvent) => void;
    onDrop: (event: DragEvent) => void;
  };
} {
  const [dragging, setDragging] = useState(false);
  const carriesFiles = (event: DragEvent): boolean => event.dataTransfer.types.includes('Files');
  return {
    dragging,
    handlers: {
      onDragEnter: (event) => {
        if (carriesFiles(event)) setDragging(true);
      },
      onDragOver: (event) => {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setDragging(true);
      },
      onDragLeave: (event) => {
        // Leaving for a child of the zone is not leaving the zone.
        if (!event.currentTarget.contains(event.relatedTarget as Node | null)) setDragging(false);
      },
      onDrop: (event) => {
        setDragging(false);
        if (event.dataTransfer.files.length === 0) return;
        event.preventDefault();
        onFiles(event.dataTransfer.files);
      },
    },
  };
}
