// `gwctl probe`: one cheap authenticated call per provider (its model listing), with latency and
// the outcome, like `openclaw gateway probe`. The credential is injected here and never reported.
import { performance } from "node:perf_hooks";
import type { UpstreamProvider } from "../facade/deps.js";
import type { Upstreams } from "../facade/upstream.js";
import { classifyUpstreamError, splitBaseUrl } from "../facade/upstream.js";
import { adapterFor } from "../providers/index.js";

export interface ProbeOutcome {
  providerId: string;
  ok: boolean;
  latencyMs: number;
  statusCode: number;
  message: string;
}

const PROBE_TIMEOUT_MS = 5000;

export async function probeProvider(p: UpstreamProvider, upstreams: Upstreams): Promise<ProbeOutcome> {
  if (p.type === "echo") {
    return { providerId: p.id, ok: true, latencyMs: 0, statusCode: 200, message: "in-process demo provider" };
  }
  const adapter = adapterFor(p.type);
  const { origin, prefix } = splitBaseUrl(p.baseUrl ?? adapter.defaultBaseUrl);
  const headers: string[] = [];
  for (const [k, v] of adapter.defaultHeaders()) headers.push(k, v);
  if (p.credential) for (const [k, v] of adapter.credentialHeaders(p.credential)) headers.push(k, v);
  for (const k in p.headers) headers.push(k.toLowerCase(), p.headers[k]!);
  const started = performance.now();
  try {
    const res = await upstreams.pool(origin, p.timeouts).request({
      path: prefix + adapter.probePath,
      method: "GET",
      headers,
      headersTimeout: PROBE_TIMEOUT_MS,
      bodyTimeout: PROBE_TIMEOUT_MS,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
    });
    await res.body.dump();
    const latencyMs = performance.now() - started;
    const ok = res.statusCode < 400;
    const message = ok
      ? "ok"
      : res.statusCode === 401 || res.statusCode === 403
        ? "credential rejected"
        : `upstream answered ${res.statusCode}`;
    return { providerId: p.id, ok, latencyMs, statusCode: res.statusCode, message };
  } catch (err) {
    const cls = classifyUpstreamError(err) ?? "upstream_error";
    return {
      providerId: p.id,
      ok: false,
      latencyMs: performance.now() - started,
      statusCode: 0,
      message: cls === "upstream_timeout" ? "timed out" : "unreachable",
    };
  }
}
