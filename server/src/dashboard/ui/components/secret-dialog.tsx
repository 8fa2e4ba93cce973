import { useRef, useState } from "preact/hooks";
import { Dialog } from "./dialog.js";

interface Props {
  title: string;
  secret: string;
  onClose(): void;
}

/** Shows a newly issued key secret. The gateway keeps only its hash, so this is the only chance to copy it. */
export function SecretDialog({ title, secret, onClose }: Props) {
  const [copied, setCopied] = useState<"" | "ok" | "failed">("");
  const codeRef = useRef<HTMLElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("ok");
    } catch {
      // Without clipboard access, select the text so the operator can copy it by hand.
      const el = codeRef.current;
      if (el) getSelection()?.selectAllChildren(el);
      setCopied("failed");
    }
  };
  return (
    <Dialog title={title} onClose={onClose} testId="secret-dialog">
      <p class="warning" role="note">
        Copy this key now. It will not be shown again: keygate stores only its hash.
      </p>
      <div class="secret">
        <code ref={codeRef} data-testid="secret-value">
          {secret}
        </code>
        <button type="button" class="primary" onClick={copy} data-testid="secret-copy">
          Copy
        </button>
      </div>
      <p class="muted" aria-live="polite" data-testid="secret-copy-status">
        {copied === "ok" ? "Copied to the clipboard." : copied === "failed" ? "Press Ctrl+C to copy." : ""}
      </p>
      <div class="actions">
        <button type="button" onClick={onClose} data-testid="secret-close">
          I have stored it
        </button>
      </div>
    </Dialog>
  );
}
