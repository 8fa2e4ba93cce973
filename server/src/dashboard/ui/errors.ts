import { Code, ConnectError } from "@connectrpc/connect";

/** A short, operator-facing description of a failed call. */
export function errorMessage(err: unknown): string {
  const e = ConnectError.from(err);
  switch (e.code) {
    case Code.Unauthenticated:
      return "The admin token was not accepted.";
    case Code.PermissionDenied:
      return "This token's role does not allow that.";
    case Code.Unavailable:
      return "The gateway could not be reached.";
    case Code.Canceled:
      return "Cancelled.";
    default:
      return e.rawMessage || "Request failed.";
  }
}

export function isUnauthenticated(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.Unauthenticated;
}

export function isAbort(err: unknown): boolean {
  return ConnectError.from(err).code === Code.Canceled;
}
