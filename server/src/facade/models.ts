// Model listings in each family's own format, showing only what the presented key may use.
import type { IncomingMessage, ServerResponse } from "node:http";
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { checkPrincipal, type Principal } from "../auth/principal.js";
import type { WireFamily } from "../providers/types.js";
import type { FacadeDeps } from "./deps.js";
import { sendError } from "./errors.js";
import { presentedKey } from "./headers.js";
import { refusesUnpriced, scopesOf } from "./limit-scopes.js";

const NO_USAGE = { inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0 };

const DEMO_OWNER = "keygate-echo (demo provider)";

function listing(family: WireFamily, models: { id: string; owner: string }[]): unknown {
  const created = 1_700_000_000;
  switch (family) {
    case "openai":
      return {
        object: "list",
        data: models.map((m) => ({ id: m.id, object: "model", created, owned_by: m.owner })),
      };
    case "anthropic":
      return {
        data: models.map((m) => ({
          type: "model",
          id: m.id,
          display_name: m.owner === DEMO_OWNER ? `${m.id} (demo)` : m.id,
          created_at: new Date(created * 1000).toISOString(),
        })),
        has_more: false,
        first_id: models[0]?.id ?? null,
        last_id: models.at(-1)?.id ?? null,
      };
    case "google":
      return {
        models: models.map((m) => ({
          name: `models/${m.id}`,
          displayName: m.owner === DEMO_OWNER ? `${m.id} (demo)` : m.id,
          supportedGenerationMethods: ["generateContent", "streamGenerateContent"],
        })),
      };
    case "ollama":
      return {
        models: models.map((m) => ({
          name: m.id,
          model: m.id,
          modified_at: new Date(created * 1000).toISOString(),
          size: 0,
          digest: "",
          details: { family: m.owner },
        })),
      };
  }
}

export async function handleModels(
  d: FacadeDeps,
  family: WireFamily,
  req: IncomingMessage,
  res: ServerResponse,
  query: URLSearchParams | undefined,
  clientIp: string,
  t0: number,
): Promise<void> {
  req.resume();
  const id = randomUUID();
  const overhead = (): [string, string] => ["x-keygate-overhead-ms", (performance.now() - t0).toFixed(3)];
  const fail = (kind: Parameters<typeof sendError>[2], message: string): void =>
    void sendError(res, family, kind, message, [overhead()], id);
  const secret = presentedKey(req.headers, query);
  if (!secret) return fail("unauthorized", "Missing API key.");
  let principal: Principal | undefined;
  try {
    const r = d.keys.resolve(secret);
    principal = r instanceof Promise ? await r : r;
  } catch {
    return fail("unavailable", "Authentication is temporarily unavailable; retry shortly.");
  }
  if (!principal) return fail("unauthorized", "Invalid API key.");
  const refusal = checkPrincipal(principal, clientIp, Date.now());
  if (refusal) return fail(refusal.kind, refusal.message);
  const seen = new Set<string>();
  const models: { id: string; owner: string }[] = [];
  const pricedOnly = refusesUnpriced(d, scopesOf(d, principal));
  // A name (a model or an alias) is usable under a budget when some target it routes to has a price.
  const priced = (model: string): boolean =>
    d
      .router()
      .resolve({ model, maxTokens: undefined, tag: principal.tag })
      .some((t) => d.costFor(t.model, t.provider.type, NO_USAGE) !== null);
  for (const m of d.router().models()) {
    if (seen.has(m.id) || !principal.allowsModel(m.id)) continue;
    if (pricedOnly && !priced(m.id)) continue;
    seen.add(m.id);
    models.push({ id: m.id, owner: m.provider.type === "echo" ? DEMO_OWNER : m.provider.id });
  }
  const body = JSON.stringify(listing(family, models));
  res.writeHead(200, [
    "content-type",
    "application/json",
    "content-length",
    String(Buffer.byteLength(body)),
    "x-request-id",
    id,
    ...overhead(),
  ]);
  res.end(body);
}
