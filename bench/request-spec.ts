// The one request a load client sends, handed from the harness to client processes through the
// environment (not argv, which any local user can read with ps) because it carries a credential.

export interface RequestSpec {
  /** Full URL of the endpoint, e.g. http://127.0.0.1:8484/v1/chat/completions */
  url: string;
  headers: Record<string, string>;
  body: string;
}

export const SPEC_ENV = "BENCH_REQUEST";

export function specEnv(spec: RequestSpec): Record<string, string> {
  return { [SPEC_ENV]: JSON.stringify(spec) };
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === "object" && v !== null && Object.values(v).every((x) => typeof x === "string");
}

export function readSpec(env: NodeJS.ProcessEnv): RequestSpec {
  const raw = env[SPEC_ENV];
  if (!raw) throw new Error(`${SPEC_ENV} is not set`);
  const v: unknown = JSON.parse(raw);
  if (typeof v !== "object" || v === null) throw new Error(`${SPEC_ENV} must be a JSON object`);
  const { url, headers, body } = v as Record<string, unknown>;
  if (typeof url !== "string" || typeof body !== "string" || !isStringRecord(headers)) {
    throw new Error(`${SPEC_ENV} needs url, headers and body`);
  }
  return { url, headers, body };
}

/** Chat completion bodies: small, so the figures measure the gateway rather than the payload. */
export function chatBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [{ role: "user", content: "Say hello." }],
    ...(stream ? { stream: true } : {}),
  });
}

/** Prints one JSON result line, the only thing a client process writes to stdout. */
export function emit(result: unknown): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}

/** The last JSON line a client printed. */
export function parseLastJson(stdout: string, who: string): unknown {
  const line = stdout.trim().split("\n").pop();
  if (!line) throw new Error(`${who} printed nothing`);
  return JSON.parse(line);
}
