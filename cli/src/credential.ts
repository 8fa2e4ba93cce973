// Provider credentials enter gwctl only through the environment or stdin, never argv, where
// they would show up in the process list and shell history.
import { UsageError } from "./errors.js";
import { rememberSecret } from "./secrets.js";

export interface CredentialFlags {
  credentialEnv?: string;
  credentialStdin?: boolean;
  /** Declared only so that it can be refused with an explanation. */
  credential?: string;
}

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("paste the credential, then press Enter and Ctrl-D\n");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** The credential named by the flags, or undefined when none was asked for. */
export async function readCredential(flags: CredentialFlags): Promise<string | undefined> {
  if (flags.credential !== undefined) {
    rememberSecret(flags.credential);
    throw new UsageError(
      "--credential is refused: a secret on the command line leaks into the process list and shell history; " +
        "use --credential-env VAR or --credential-stdin",
    );
  }
  let value: string | undefined;
  if (flags.credentialEnv !== undefined) {
    value = process.env[flags.credentialEnv];
    if (!value?.trim())
      throw new UsageError(`--credential-env: environment variable ${flags.credentialEnv} is not set`);
  } else if (flags.credentialStdin) {
    value = await readStdin();
    if (!value.trim()) throw new UsageError("--credential-stdin: nothing was read from stdin");
  } else {
    return undefined;
  }
  const credential = value.trim();
  rememberSecret(credential);
  return credential;
}
