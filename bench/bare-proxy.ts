// The least a Node gateway can do, as a reference point for keygate's figures on the same machine:
// node:http in front, undici's dispatch behind (the pair keygate uses), the client's body forwarded
// with the upstream credential swapped in, and the answer relayed chunk by chunk. No keys, limits,
// routing, metrics or usage records. Bundled to dist/bench-bare-proxy.js and run as its own process.
//
// With --record it is the second reference, the least a *recording* Node gateway does: it also
// checks one virtual key by its SHA-256 from memory, reads the model from the request body and the
// usage from the answer, and queues one usage row per request, written to Postgres with keygate's
// own recorder (binary COPY every 25 ms, up to 200 rows a batch). Every request the target requires
// to be recorded costs this much on the same machine, before anything else a gateway does.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Command } from "commander";
import pg from "pg";
import pino from "pino";
import { Pool, type Dispatcher } from "undici";
import { DEFAULTS } from "../server/src/config/defaults.js";
import { presentedKey } from "../server/src/facade/headers.js";
import { hashKey } from "../server/src/secrets/virtual-key.js";
import { copyUsageRows, usageCopyRow } from "../server/src/store/usage-copy.js";
import { createUsageRecorder, type UsageRecorder } from "../server/src/usage/recorder.js";
import type { UsageRecord } from "../server/src/usage/record.js";
import { requestId } from "../server/src/usage/request-id.js";
import { usageFromBody } from "../server/src/usage/taps/index.js";

const program = new Command()
  .name("bench-bare-proxy")
  .description(
    "Bare Node proxy in front of the bench upstream (the upstream key comes from BENCH_UPSTREAM_KEY)",
  )
  .requiredOption("--upstream <url>", "origin of the upstream")
  .option("--port <port>", "port to listen on (0 = random)", "0")
  .option(
    "--record",
    "check BENCH_PROXY_KEY and record every request in the Postgres at BENCH_DATABASE_URL",
    false,
  )
  .parse();

const opts = program.opts<{ upstream: string; port: string; record: boolean }>();
// The credential travels in the environment, not on the command line, as for the other clients.
const authorization = `Bearer ${process.env.BENCH_UPSTREAM_KEY ?? ""}`;
// keygate's upstream pool settings (server/src/facade/upstream.ts).
const pool = new Pool(opts.upstream, { connections: null, pipelining: 1 });

/** Response headers that describe the upstream connection, not the answer. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding"]);

/** What --record needs: the one key it accepts (as a hash) and keygate's usage recorder. */
interface Recording {
  keyHash: string;
  recorder: UsageRecorder;
  db: pg.Pool;
}

/** Rows written under this instance id are deleted when the proxy stops. */
const RECORDING_INSTANCE = `bench-recording-proxy-${process.pid}`;

function startRecording(): Recording {
  const url = process.env.BENCH_DATABASE_URL;
  const key = process.env.BENCH_PROXY_KEY;
  if (!url || !key) throw new Error("--record needs BENCH_DATABASE_URL and BENCH_PROXY_KEY");
  const db = new pg.Pool({ connectionString: url, max: 2 });
  db.on("error", () => {});
  const recorder = createUsageRecorder({
    prepare: usageCopyRow,
    insert: (_batch, rows) => copyUsageRows(db, rows),
    batchSize: DEFAULTS.usage.batchSize,
    flushIntervalMs: DEFAULTS.usage.flushIntervalMs,
    queueLimit: DEFAULTS.usage.queueLimit,
    logger: pino({ level: "warn" }, pino.destination(2)),
  });
  return {
    keyHash: hashKey(key),
    recorder,
    db,
  };
}

const recording = opts.record ? startRecording() : undefined;

function record(
  rec: Recording,
  model: string,
  status: number,
  t0: number,
  ttfb: number | null,
  answer: Buffer[],
) {
  // Read as keygate reads a complete answer (usage/taps).
  const u =
    status < 400 && answer.length > 0 ? usageFromBody("openai.chat", Buffer.concat(answer)) : undefined;
  const latencyMs = performance.now() - t0;
  const r: UsageRecord = {
    id: requestId(),
    time: new Date(),
    instanceId: RECORDING_INSTANCE,
    keyId: RECORDING_INSTANCE,
    providerId: "bench",
    api: "openai.chat",
    requestedModel: model,
    servedModel: model,
    inputTokens: u?.inputTokens ?? 0,
    outputTokens: u?.outputTokens ?? 0,
    cacheReadTokens: u?.cacheReadTokens ?? 0,
    cacheWriteTokens: u?.cacheWriteTokens ?? 0,
    costUsd: null,
    statusCode: status,
    errorClass: "",
    latencyMs,
    ttfbMs: ttfb,
    stream: false,
    clientIp: "127.0.0.1",
    userAgent: "",
    fallback: false,
    attempts: [{ providerId: "bench", model, statusCode: status, latencyMs, errorClass: "" }],
    replicaId: "bench-recording-proxy",
  };
  rec.recorder.record(r);
}

function relay(req: IncomingMessage, res: ServerResponse, body: Buffer, t0: number): void {
  // With --record: the model from the request, and the answer kept for its usage.
  const model = recording ? String((JSON.parse(body.toString("utf8")) as { model?: unknown }).model) : "";
  const answer: Buffer[] = [];
  let status = 0;
  let ttfb: number | null = null;
  const handler: Dispatcher.DispatchHandler = {
    // undici tells this handler API from the older one by this method, so it must be present.
    onRequestStart() {},
    onResponseStart(_c, statusCode, headers) {
      status = statusCode;
      const out: string[] = [];
      for (const name in headers) {
        const v = headers[name];
        if (HOP_BY_HOP.has(name) || v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) out.push(name, one);
      }
      res.writeHead(statusCode, out);
    },
    onResponseData(c, chunk) {
      if (recording) {
        ttfb ??= performance.now() - t0;
        answer.push(chunk);
      }
      // A full client socket pauses the upstream one until it drains.
      if (!res.write(chunk) && !c.paused) {
        c.pause();
        res.once("drain", () => c.resume());
      }
    },
    onResponseEnd() {
      res.end();
      if (recording) record(recording, model, status, t0, ttfb, answer);
    },
    onResponseError(_c, err) {
      if (res.headersSent) res.destroy(err);
      else res.writeHead(502, { "content-type": "text/plain" }).end("upstream error");
      if (recording) record(recording, model, 502, t0, ttfb, []);
    },
  };
  pool.dispatch(
    {
      path: req.url ?? "/",
      method: "POST",
      headers: [
        "content-type",
        req.headers["content-type"] ?? "application/json",
        "authorization",
        authorization,
        "content-length",
        String(body.length),
      ],
      body,
    },
    handler,
  );
}

/** With --record, only the one key is let through (its hash checked from memory, as keygate does). */
function admitted(req: IncomingMessage): boolean {
  if (!recording) return true;
  const presented = presentedKey(req.headers, undefined);
  return presented !== undefined && hashKey(presented) === recording.keyHash;
}

const server = createServer((req, res) => {
  const t0 = performance.now();
  if (!admitted(req)) {
    req.resume();
    res.writeHead(401, { "content-type": "text/plain" }).end("invalid key");
    return;
  }
  const parts: Buffer[] = [];
  req.on("data", (c: Buffer) => parts.push(c));
  req.on("end", () => relay(req, res, parts.length === 1 ? parts[0]! : Buffer.concat(parts), t0));
});
// As keygate's own server (server/src/http/server.ts).
server.keepAliveTimeout = 65_000;
server.listen(Number(opts.port), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}` }) + "\n");
});

/** Writes what is queued, then removes this process's rows: they are a measurement, not usage. */
async function stopRecording(rec: Recording): Promise<void> {
  await rec.recorder.close(30_000);
  await rec.db.query("delete from usage_records where instance_id = $1", [RECORDING_INSTANCE]);
  await rec.db.end();
}

process.once("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void Promise.allSettled([pool.destroy(), recording ? stopRecording(recording) : undefined]).finally(() =>
    process.exit(0),
  );
});
