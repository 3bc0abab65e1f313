import { useId, type ReactNode, type RefObject } from 'react';

/**
 * A modal "are you sure?" for deleting something. Cancel has the focus, so Enter or Esc never
 * deletes by accident; open it with `dialogRef.current.showModal()`.
 */
export function ConfirmDelete({
  dialogRef,
  question,
  onConfirm,
}: {
  dialogRef: RefObject<HTMLDialogElement | null>;
  question: ReactNode;
  onConfirm: () => void;
}) {
  const questionId = useId();
  return (
    <dialog ref={dialogRef} className="confirm" aria-labelledby={questionId}>
      <form method="dialog">
        <p id={questionId}>{question}</p>
        <div className="confirm-actions">
          <button className="button" value="cancel" autoFocus>
            Cancel
          </button>
          <button
            className="button primary"
            value="delete"
            onClick={(event) => {
              event.preventDefault();
              dialogRef.current?.close();
              onConfirm();
            }}
          >
            Delete
          </button>
        </div>
      </form>
    </dialog>
  );
}
