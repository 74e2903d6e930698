import { useState } from 'preact/hooks';

export interface CopyButtonProps {
  readonly text: string;
  /** What is copied, for the button's accessible name (`Copy the API key`). */
  readonly label: string;
  /** The id of the element showing the text: selected when the clipboard is not available. */
  readonly sourceId: string;
}

/** Copies a secret to the clipboard and says so; falls back to selecting it for Ctrl+C. */
export function CopyButton({ text, label, sourceId }: CopyButtonProps) {
  const [status, setStatus] = useState('');

  const selectSource = (): void => {
    const source = document.getElementById(sourceId);
    const selection = window.getSelection();
    if (source === null || selection === null) return;
    const range = document.createRange();
    range.selectNodeContents(source);
    selection.removeAllRanges();
    selection.addRange(range);
  };

  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(text);
      setStatus('Copied to the clipboard.');
    } catch {
      selectSource();
      setStatus('Selected: press Ctrl+C (⌘C) to copy.');
    }
  };

  return (
    <span class="copy">
      <button type="button" class="secondary" onClick={() => void copy()}>
        {label}
      </button>
      <span class="copy-status" role="status">
        {status}
      </span>
    </span>
  );
}
