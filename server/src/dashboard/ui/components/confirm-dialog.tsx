import type { ComponentChildren } from "preact";
import { Dialog } from "./dialog.js";
import { ErrorText } from "./messages.js";

interface Props {
  title: string;
  confirmLabel: string;
  busy: boolean;
  error: string | undefined;
  danger?: boolean;
  onConfirm(): void;
  onCancel(): void;
  children: ComponentChildren;
}

export function ConfirmDialog(p: Props) {
  return (
    <Dialog title={p.title} onClose={p.onCancel} testId="confirm-dialog">
      {p.children}
      <ErrorText error={p.error} id="confirm-error" />
      <div class="actions">
        <button type="button" onClick={p.onCancel} data-testid="confirm-cancel">
          Cancel
        </button>
        <button
          type="button"
          class={p.danger ? "danger" : "primary"}
          onClick={p.onConfirm}
          disabled={p.busy}
          data-testid="confirm-ok"
        >
          {p.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}
