import { Code, ConnectError } from "@connectrpc/connect";

/** A mistake in how gwctl was called: reported with exit code 2, before any server call. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Something a command wants to report as a plain failure (exit code 1) without a Connect error behind it. */
export class Failure extends Error {
  override name = "Failure";
}

/** A failed call, tagged with what it was about so "not found" can name the resource. */
export class SubjectError extends Error {
  override name = "SubjectError";
  constructor(
    readonly subject: string,
    readonly error: unknown,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

/** Runs one Admin API call; a failure carries `subject` (e.g. `instance "agent-1"`) for the error line. */
export async function about<T>(subject: string, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (err) {
    throw new SubjectError(subject, err);
  }
}

// Node's fetch reports socket failures as a chain of causes; the innermost errno code is the useful part.
const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host not found",
  ETIMEDOUT: "connection timed out",
  UND_ERR_CONNECT_TIMEOUT: "connection timed out",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  UND_ERR_SOCKET: "connection closed unexpectedly",
  EPROTO: "TLS handshake failed",
  DEPTH_ZERO_SELF_SIGNED_CERT: "TLS certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "TLS certificate chain is self-signed",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "TLS certificate cannot be verified",
  CERT_HAS_EXPIRED: "TLS certificate has expired",
  ERR_TLS_CERT_ALTNAME_INVALID: "TLS certificate does not match the host name",
};

/** The friendly reason a request never reached the server, or undefined if it did. */
export function networkReason(err: unknown): string | undefined {
  if (err instanceof Error && err.name === "TimeoutError") return "timed out";
  let cur: unknown = err;
  let fetchFailed = false;
  let innermost = "";
  for (let depth = 0; depth < 8 && cur instanceof Error; depth++) {
    const code = "code" in cur ? cur.code : undefined;
    if (typeof code === "string" && code in NETWORK_WORDS) return NETWORK_WORDS[code];
    if (cur instanceof TypeError && cur.message === "fetch failed") fetchFailed = true;
    innermost = cur.message;
    if (cur instanceof AggregateError && cur.errors[0] instanceof Error) {
      cur = cur.errors[0];
      continue;
    }
    cur = cur.cause;
  }
  // fetch failed for a reason without an errno (e.g. a port fetch refuses to use): say what it was.
  return fetchFailed ? innermost || "request failed" : undefined;
}

function connectLine(err: ConnectError, server: string, subject: string | undefined): string {
  const raw = err.rawMessage || "no details";
  switch (err.code) {
    case Code.NotFound:
      return `not found: ${subject ?? raw}`;
    case Code.AlreadyExists:
      return `already exists: ${subject ?? raw}`;
    case Code.Unauthenticated:
      return "unauthenticated: check --token or KEYGATE_ADMIN_TOKEN";
    case Code.PermissionDenied:
      return `permission denied: ${raw}`;
    case Code.InvalidArgument:
      return `invalid argument: ${raw}`;
    case Code.FailedPrecondition:
      return `refused: ${raw}`;
    case Code.ResourceExhausted:
      return `rate limited: ${raw}`;
    case Code.DeadlineExceeded:
      return `timed out: ${raw}`;
    case Code.Canceled:
      return "canceled";
    case Code.Unimplemented:
      return `not supported by the server at ${server}: ${raw}`;
    case Code.Internal:
      return `server error: ${raw}`;
    case Code.Unavailable:
      return `unavailable: ${raw}`;
    default:
      return raw;
  }
}

/** One line describing any error thrown by a command, without the `gwctl: ` prefix. */
export function describeError(err: unknown, server: string): string {
  const subject = err instanceof SubjectError ? err.subject : undefined;
  const inner = err instanceof SubjectError ? err.error : err;
  const unreachable = networkReason(inner);
  if (unreachable) return `cannot reach ${server}: ${unreachable}`;
  if (inner instanceof ConnectError) return connectLine(inner, server, subject);
  if (inner instanceof Error) return inner.message;
  return String(inner);
}
