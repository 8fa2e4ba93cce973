// A deliberately minimal OpenAI-compatible upstream for the benchmark, run as its own process
// (bundled to dist/bench-upstream.js). Every answer is precomputed so the upstream costs as little
// CPU as possible and the benchmark measures the gateway, not this process.
// Shapes follow the OpenAI chat.completion / chat.completion.chunk objects (see test/fakes/openai-chat.ts).
import { createServer } from "node:http";
import type { ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Command } from "commander";

const program = new Command()
  .name("bench-upstream")
  .description("Fast fixed-answer OpenAI-compatible upstream for the benchmark")
  .option("--port <port>", "port to listen on (0 = random)", "0")
  .option("--chunks <n>", "content chunks per streamed answer", "20")
  .option("--chunk-delay-ms <ms>", "pause between streamed chunks", "0")
  .parse();

const opts = program.opts<{ port: string; chunks: string; chunkDelayMs: string }>();
const chunks = Math.max(1, Number(opts.chunks));
const chunkDelayMs = Math.max(0, Number(opts.chunkDelayMs));

const MODEL = "gpt-4o-mini";
const CREATED = Math.floor(Date.now() / 1000);
const USAGE = {
  prompt_tokens: 12,
  completion_tokens: chunks,
  total_tokens: 12 + chunks,
  prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
  completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
};

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

const COMPLETION = json({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created: CREATED,
  model: MODEL,
  choices: [
    {
      index: 0,
      message: { role: "assistant", content: "Hello from the benchmark upstream.", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    },
  ],
  usage: USAGE,
  system_fingerprint: "fp_bench",
});
const COMPLETION_HEADERS = { "content-type": "application/json", "content-length": COMPLETION.length };

const chunk = (choices: unknown[], usage: unknown = null): Buffer =>
  Buffer.from(
    `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created: CREATED, model: MODEL, choices, usage })}\n\n`,
  );
const choice = (delta: unknown, finish: string | null = null) => ({
  index: 0,
  delta,
  logprobs: null,
  finish_reason: finish,
});

/** Role chunk, `chunks` one-token content chunks, finish chunk, usage chunk, [DONE]. */
const FRAMES: Buffer[] = [
  chunk([choice({ role: "assistant", content: "", refusal: null })]),
  ...Array.from({ length: chunks }, (_, i) => chunk([choice({ content: i === 0 ? "tok" : " tok" })])),
  chunk([choice({}, "stop")]),
  chunk([], USAGE),
  Buffer.from("data: [DONE]\n\n"),
];
const ALL_FRAMES = Buffer.concat(FRAMES);
const STREAM_HEADERS = { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache" };

const MODELS = json({
  object: "list",
  data: [{ id: MODEL, object: "model", created: CREATED, owned_by: "bench" }],
});
const NOT_FOUND = json({
  error: { message: "Unknown path", type: "invalid_request_error", param: null, code: null },
});

function streamPaced(res: ServerResponse, i = 0): void {
  if (res.destroyed) return;
  const frame = FRAMES[i];
  if (frame === undefined) {
    res.end();
    return;
  }
  res.write(frame);
  setTimeout(() => streamPaced(res, i + 1), chunkDelayMs);
}

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on("data", (c: Buffer) => parts.push(c));
  req.on("end", () => {
    if (req.method === "POST" && req.url === "/v1/chat/completions") {
      // A substring check instead of JSON.parse keeps large prompts cheap; clients send either
      // the compact or the spaced form.
      const body = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
      if (body.includes('"stream":true') || body.includes('"stream": true')) {
        res.writeHead(200, STREAM_HEADERS);
        if (chunkDelayMs === 0) res.end(ALL_FRAMES);
        else streamPaced(res);
        return;
      }
      res.writeHead(200, COMPLETION_HEADERS);
      res.end(COMPLETION);
      return;
    }
    if (req.method === "GET" && req.url === "/v1/models") {
      res.writeHead(200, { "content-type": "application/json", "content-length": MODELS.length });
      res.end(MODELS);
      return;
    }
    res.writeHead(404, { "content-type": "application/json", "content-length": NOT_FOUND.length });
    res.end(NOT_FOUND);
  });
});
// Outlive the gateway's pooled keep-alive connections so the benchmark never pays for reconnects.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;

server.listen(Number(opts.port), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});

const stop = (): void => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
