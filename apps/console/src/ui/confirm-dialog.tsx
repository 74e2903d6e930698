import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Result } from '../api/http.js';
import type { Problem } from '../api/problem.js';
import { ProblemMessage } from './problem-message.js';

export interface ConfirmDialogProps<T> {
  readonly title: string;
  readonly children: ComponentChildren;
  /** The confirm button's text: says what happens (`Revoke key`), not `OK`. */
  readonly confirmLabel: string;
  /** A destructive action: the confirm button is red. @default false */
  readonly danger?: boolean;
  /** Runs the action; the dialog stays open with the problem when it fails. */
  readonly onConfirm: () => Promise<Result<T>>;
  readonly onDone: (value: T) => void;
  readonly onCancel: () => void;
}

/**
 * A modal `<dialog>` asking before a change. Focus starts on Cancel (the safe choice); Escape
 * cancels; the browser returns focus to the control that opened it.
 */
export function ConfirmDialog<T>({ title, children, confirmLabel, danger = false, onConfirm, onDone, onCancel }: ConfirmDialogProps<T>) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>(undefined);

  useEffect(() => {
    const element = dialog.current;
    if (element === null) return undefined;
    element.showModal();
    return () => element.close();
  }, []);

  const confirm = async (event: Event): Promise<void> => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(undefined);
    const result = await onConfirm();
    setBusy(false);
    if (result.ok) onDone(result.value);
    else setProblem(result.problem);
  };

  return (
    <dialog
      ref={dialog}
      class="confirm"
      aria-labelledby="confirm-title"
      onCancel={(event) => {
        event.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <form method="dialog" onSubmit={confirm}>
        <h2 id="confirm-title">{title}</h2>
        <div class="confirm-body">{children}</div>
        {problem === undefined ? null : <ProblemMessage problem={problem} />}
        <div class="actions">
          <button type="button" class="secondary" autofocus onClick={onCancel} disabled={busy}>
            Cancel
          </button>
          <button type="submit" class={danger ? 'danger' : 'primary'} disabled={busy} aria-busy={busy ? 'true' : undefined}>
            {busy ? 'Working…' : confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}
