// Shared helpers for the Admin API tests.
import { Code, ConnectError } from "@connectrpc/connect";
import { createAdminClient, type AdminClient } from "../../sdk/client.js";

export interface Failure {
  code: Code;
  message: string;
}

/** The error a call fails with; throws if it succeeds. */
export async function failure(p: Promise<unknown>): Promise<Failure> {
  try {
    await p;
  } catch (err) {
    const e = ConnectError.from(err);
    return { code: e.code, message: e.rawMessage };
  }
  throw new Error("expected the call to fail");
}

/** A client that keeps the raw body of every HTTP response (JSON encoding) for leak checks. */
export function recordingClient(
  baseUrl: string,
  token: string,
): { client: AdminClient; bodies: string[]; settled(): Promise<string[]> } {
  const bodies: string[] = [];
  const pending: Promise<void>[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const res = await fetch(input, init);
    pending.push(
      res
        .clone()
        .text()
        .then((t) => void bodies.push(t))
        .catch(() => undefined),
    );
    return res;
  };
  return {
    client: createAdminClient({ baseUrl, token, fetch: recordingFetch }),
    bodies,
    // Every body read so far (unary responses are complete once their call resolves).
    settled: async () => {
      await Promise.all(pending);
      return bodies;
    },
  };
}

/** JSON of a message with bigints rendered as strings. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x));
}
