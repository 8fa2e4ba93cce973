// What every scenario gets: the options, the parties and the two requests it compares.
import type { BenchOptions } from "./options.js";
import { chatBody, type RequestSpec } from "./request-spec.js";
import type { Identity, SystemUnderTest } from "./sut.js";
import { UPSTREAM_KEY, type Upstream } from "./upstream-proc.js";

export interface BenchContext {
  /** The repository root (dist/, bin/ and bench/ live here). */
  root: string;
  opts: BenchOptions;
  upstream(): Upstream;
  /** Restarts the upstream on the same port with other stream settings (the gateway's config stays valid). */
  restartUpstream(chunks: number, chunkDelayMs: number): Promise<Upstream>;
  sut: SystemUnderTest;
  /** The bare Node proxy measured beside the gateway in the wrk scenarios (absent with --no-bare-proxy). */
  bare?: { url: string; pid: number };
  /** The recording Node proxy beside it, when the bench has a Postgres to record in. */
  recording?: { url: string; pid: number; key: string };
  /** Progress, on stderr so stdout carries only the table. */
  log(message: string): void;
}

/** The request straight to the upstream, with the upstream's own credential. */
export function directSpec(ctx: BenchContext, stream: boolean): RequestSpec {
  return {
    url: `${ctx.upstream().url}/v1/chat/completions`,
    headers: { authorization: `Bearer ${UPSTREAM_KEY}` },
    body: chatBody(ctx.opts.model, stream),
  };
}

/**
 * The same request through a reference Node proxy, which swaps in the upstream credential itself;
 * the recording one admits only its own key.
 */
export function bareSpec(ctx: BenchContext, bareUrl: string, key?: string): RequestSpec {
  return {
    url: `${bareUrl}/v1/chat/completions`,
    headers: key ? { authorization: `Bearer ${key}` } : {},
    body: chatBody(ctx.opts.model, false),
  };
}

/** The same request through the gateway under test. */
export function gatewaySpec(ctx: BenchContext, id: Identity, stream: boolean): RequestSpec {
  return {
    url: `${ctx.sut.url}${ctx.opts.path}`,
    headers: id.headers,
    body: chatBody(ctx.opts.model, stream),
  };
}
