// The Admin API speaks Connect, gRPC-Web and gRPC on the gateway's one port: gRPC arrives over
// HTTP/2 without TLS (prior knowledge), which the listener tells apart from HTTP/1.1 by its preface.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { AdminService } from "../../sdk/index.js";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { bearer } from "../helpers/bearer.js";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway();
});

afterAll(async () => {
  await gw?.close();
});

const transports: [string, (token: string) => Transport][] = [
  [
    "Connect over HTTP/1.1",
    (t) => createConnectTransport({ baseUrl: gw.url, httpVersion: "1.1", interceptors: [bearer(t)] }),
  ],
  [
    "gRPC-Web over HTTP/1.1",
    (t) => createGrpcWebTransport({ baseUrl: gw.url, httpVersion: "1.1", interceptors: [bearer(t)] }),
  ],
  ["gRPC over HTTP/2 (h2c)", (t) => createGrpcTransport({ baseUrl: gw.url, interceptors: [bearer(t)] })],
];

describe.each(transports)("%s", (_name, transport) => {
  it("serves the Admin API and refuses a wrong token", async () => {
    const client = createClient(AdminService, transport(gw.adminToken));
    const created = await client.createInstance({
      instanceId: `proto-${Math.random().toString(36).slice(2, 8)}`,
    });
    const got = await client.getInstance({ id: created.instance!.id });
    expect(got.instance?.id).toBe(created.instance!.id);
    const status = await client.getStatus({});
    expect(status.version).toMatch(/\d+\.\d+\.\d+/);

    const wrong = createClient(AdminService, transport("kg_admin_wrong"));
    const err = await wrong.getStatus({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
  });
});

it("the same port still answers plain HTTP/1.1 (the façade and health)", async () => {
  const res = await fetch(`${gw.url}/healthz`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ status: "ok" });
});
