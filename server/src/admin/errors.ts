// Error helpers for the Admin API. Messages name the offending field and never echo secrets.
import { Code, ConnectError } from "@connectrpc/connect";

export function invalid(field: string, problem: string): ConnectError {
  return new ConnectError(`${field}: ${problem}`, Code.InvalidArgument);
}

export function notFound(kind: string, id: string): ConnectError {
  return new ConnectError(`${kind} ${JSON.stringify(id)} not found`, Code.NotFound);
}

export function alreadyExists(kind: string, id: string): ConnectError {
  return new ConnectError(`${kind} ${JSON.stringify(id)} already exists`, Code.AlreadyExists);
}

export function failedPrecondition(message: string): ConnectError {
  return new ConnectError(message, Code.FailedPrecondition);
}

/** The gateway is shutting down: the client should call again, which reaches another replica. */
export function shuttingDown(): ConnectError {
  return new ConnectError(
    "The gateway is shutting down; call again to reach another replica.",
    Code.Unavailable,
  );
}

export interface ErrorLog {
  error(obj: object, msg: string): void;
}

/**
 * Passes ConnectErrors through; anything else (a database outage, a bug) becomes Internal with a
 * generic message. Only the error's class and SQLSTATE are logged: driver messages can quote values.
 */
export function toConnectError(err: unknown, method: string, log?: ErrorLog): ConnectError {
  if (err instanceof ConnectError) return err;
  const e = err as { name?: unknown; code?: unknown } | null;
  log?.error(
    {
      method,
      errorName: typeof e?.name === "string" ? e.name : typeof err,
      sqlState: typeof e?.code === "string" ? e.code : undefined,
    },
    "admin call failed",
  );
  return new ConnectError("internal error", Code.Internal);
}
