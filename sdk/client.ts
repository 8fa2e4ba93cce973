import { createClient, type Client, type Interceptor, type Transport } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { AdminService } from "./gen/keygate/v1/admin_service_pb.js";

export type AdminClient = Client<typeof AdminService>;

export interface AdminClientOptions {
  /** The gateway's base URL, e.g. http://127.0.0.1:8787 */
  baseUrl: string;
  /** An admin token. */
  token: string;
  /** Use the binary protobuf encoding instead of JSON. */
  useBinaryFormat?: boolean;
  /** Custom fetch (tests, proxies). Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
}

/** Adds the bearer token to every call. */
function bearer(token: string): Interceptor {
  return (next) => (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };
}

/**
 * Wraps fetch so that a streamed response stops when its call is cancelled. Node's built-in
 * fetch links the caller's signal to the request only through a weak reference; once that
 * request is garbage-collected, aborting a long server stream (WatchRequests) is ignored and
 * the connection stays open. Cancelling the body ourselves closes it either way.
 */
function cancellableStreams(base: typeof globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const res = await base(input, init);
    const signal = init?.signal;
    // Connect's streaming responses are application/connect+json or application/connect+proto.
    const streaming = res.headers.get("content-type")?.startsWith("application/connect+") ?? false;
    if (!signal || !res.body || !streaming) return res;
    const body = res.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>(), { signal });
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  };
}

/**
 * Creates an Admin API client over the Connect protocol. It relies only on fetch and
 * streams, so the same code runs in Node (>= 20) and in browsers.
 */
export function createAdminTransport(options: AdminClientOptions): Transport {
  return createConnectTransport({
    baseUrl: options.baseUrl.replace(/\/+$/, ""),
    useBinaryFormat: options.useBinaryFormat ?? false,
    interceptors: [bearer(options.token)],
    fetch: cancellableStreams(options.fetch ?? ((input, init) => globalThis.fetch(input, init))),
  });
}

export function createAdminClient(options: AdminClientOptions): AdminClient {
  return createClient(AdminService, createAdminTransport(options));
}
