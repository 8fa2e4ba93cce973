// An OpenAI-format upstream that sets a cookie on its answer, as some providers' edges (load
// balancers, bot protection) do, names its own x-request-id, as OpenAI does on every answer, and
// sends a hop-by-hop header listed in its Connection header.
// The answer itself is the shared fake's chat completion.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { chatCompletion } from "../fakes/openai-chat.js";
import { DEFAULT_PIECES, isRecord } from "../fakes/content.js";
import { DEFAULT_USAGE } from "../fakes/server.js";

export const UPSTREAM_COOKIE = "upstream_session=e2e-cookie-value; Path=/; HttpOnly";
export const UPSTREAM_REQUEST_ID = "req_upstream_e2e";
/** A header the upstream lists in its Connection header: meant for its hop to keygate only. */
export const UPSTREAM_HOP_HEADER = "x-upstream-hop";

export interface CookieUpstream {
  url: string;
  /** Headers of every request received. */
  requests: IncomingMessage["headers"][];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const v: unknown = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  return isRecord(v) ? v : {};
}

export async function startCookieUpstream(): Promise<CookieUpstream> {
  const requests: IncomingMessage["headers"][] = [];
  let n = 0;
  const server = createServer((req, res) => {
    requests.push(req.headers);
    readJson(req).then(
      (body) => {
        const reply = chatCompletion({
          body,
          query: {},
          headers: {},
          model: typeof body.model === "string" ? body.model : "",
          stream: false,
          usage: { ...DEFAULT_USAGE },
          pieces: DEFAULT_PIECES,
          toolCalls: undefined,
          models: [],
          id: (prefix) => `${prefix}cookie${++n}`,
          now: Math.floor(Date.now() / 1000),
        });
        const text = reply.kind === "json" ? JSON.stringify(reply.body) : "";
        res.writeHead(reply.status, {
          ...reply.headers,
          "set-cookie": UPSTREAM_COOKIE,
          "x-request-id": UPSTREAM_REQUEST_ID,
          connection: `keep-alive, ${UPSTREAM_HOP_HEADER}`,
          [UPSTREAM_HOP_HEADER]: "for-keygate-only",
        });
        res.end(text);
      },
      () => {
        res.writeHead(400, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: "bad json", type: "invalid_request_error" } }));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
