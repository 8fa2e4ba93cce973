// The /__fake/* HTTP control API, so tests can drive a fake that runs in another process.
// Every POST takes a JSON body mirroring the FakeUpstream method of the same name.
import { z } from "zod";
import type { FakeUpstream } from "./server.js";

const family = z.enum(["openai", "anthropic", "google", "ollama"]);
const route = z.enum([
  "openai.chat",
  "openai.responses",
  "openai.embeddings",
  "openai.models",
  "anthropic.messages",
  "anthropic.count_tokens",
  "anthropic.models",
  "google.generate",
  "google.count_tokens",
  "google.embed",
  "google.models",
  "ollama.chat",
  "ollama.generate",
  "ollama.tags",
  "ollama.version",
]);
const scope = {
  on: z.union([route, family]).optional(),
  // JSON has no Infinity: "always" stands for it.
  times: z
    .union([z.number().int().min(1), z.literal("always")])
    .optional()
    .transform((t) => (t === "always" ? Infinity : t)),
};
const afterChunks = { afterChunks: z.number().int().min(0).optional(), ...scope };

const schemas = {
  fail: z.object({
    status: z.number().int().min(400).max(599),
    retryAfter: z.number().optional(),
    message: z.string().optional(),
    ...scope,
  }),
  delay: z.object({ ms: z.number().min(0), ...scope }),
  hang: z.object(scope),
  "reset-mid-stream": z.object(afterChunks),
  "malformed-chunk": z.object(afterChunks),
  "stream-error": z.object(afterChunks),
  "stream-chunks": z.object({ n: z.number().int().min(1), delayMs: z.number().min(0).optional() }),
  usage: z.object({
    family,
    input: z.number().int().min(0),
    output: z.number().int().min(0),
    cacheRead: z.number().int().min(0).optional(),
    cacheWrite: z.number().int().min(0).optional(),
  }),
  models: z.object({ family, models: z.array(z.string()) }),
  credential: z.object({ family, value: z.string().nullable() }),
  "tool-calls": z.object({ count: z.number().int().min(0).nullable() }),
  reset: z.object({ settings: z.boolean().optional() }),
};

type Action = keyof typeof schemas;

function apply(fake: FakeUpstream, action: Action, input: unknown): void {
  switch (action) {
    case "fail":
      return fake.fail(schemas.fail.parse(input));
    case "delay": {
      const { ms, ...s } = schemas.delay.parse(input);
      return fake.delay(ms, s);
    }
    case "hang":
      return fake.hang(schemas.hang.parse(input));
    case "reset-mid-stream":
      return fake.resetMidStream(schemas["reset-mid-stream"].parse(input));
    case "malformed-chunk":
      return fake.malformedChunk(schemas["malformed-chunk"].parse(input));
    case "stream-error":
      return fake.streamError(schemas["stream-error"].parse(input));
    case "stream-chunks": {
      const { n, delayMs } = schemas["stream-chunks"].parse(input);
      return fake.streamChunks(n, delayMs);
    }
    case "usage": {
      const { family: f, ...usage } = schemas.usage.parse(input);
      return fake.setUsage(f, usage);
    }
    case "models": {
      const { family: f, models } = schemas.models.parse(input);
      return fake.setModels(f, models);
    }
    case "credential": {
      const { family: f, value } = schemas.credential.parse(input);
      return fake.expectCredential(f, value ?? undefined);
    }
    case "tool-calls":
      return fake.toolCalls(schemas["tool-calls"].parse(input).count ?? undefined);
    case "reset":
      return fake.reset(schemas.reset.parse(input));
  }
}

export function handleControl(
  fake: FakeUpstream,
  method: string,
  path: string,
  body: unknown,
): { status: number; body: unknown } {
  const action = path.slice("/__fake/".length);
  if (method === "GET" && action === "requests") return { status: 200, body: fake.requests };
  if (method !== "POST" || !(action in schemas))
    return { status: 404, body: { error: `no control ${method} ${path}` } };
  try {
    apply(fake, action as Action, body ?? {});
    return { status: 200, body: { ok: true } };
  } catch (err) {
    const message =
      err instanceof z.ZodError ? z.prettifyError(err) : err instanceof Error ? err.message : String(err);
    return { status: 400, body: { error: message } };
  }
}
