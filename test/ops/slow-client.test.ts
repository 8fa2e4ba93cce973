// A client that opens a request and never finishes its headers (slowloris) gets 408 and loses the
// connection once server.headersTimeoutMs has passed, instead of holding it open for good.
import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestGateway, type TestGateway } from "../helpers/gateway.js";
import { sendAndReadUntilClosed } from "../helpers/raw-socket.js";

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({ config: { server: { headersTimeoutMs: 500 } } });
});
afterAll(async () => {
  await gw?.close();
});

describe("slow clients", () => {
  it("answers unfinished headers with 408 and closes the connection", async () => {
    const port = Number(new URL(gw.url).port);
    const reply = await sendAndReadUntilClosed(
      (onConnect) => connect({ host: "127.0.0.1", port }, onConnect),
      "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
      30_000,
    );
    expect(reply).toMatch(/^HTTP\/1\.1 408 /);
  });
});
