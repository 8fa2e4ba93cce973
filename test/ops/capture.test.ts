// Conversation capture as an operator uses it: switched per instance through UpdateInstance,
// read back with GetRequest and on the live feed, secrets cut out, content kept out of
// "metadata", bodies hidden from viewers, and cut at capture.maxBodyBytes.
import { randomBytes } from "node:crypto";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { CaptureMode, createAdminClient, type RequestRecord } from "../../sdk/index.js";
import { answerText } from "../fakes/content.js";
import { MODELS, startFacade, type FacadeEnv } from "../facade/harness.js";
import { chat, follow, instanceWithKey, post, waitFor, waitForWatchers, type Feed } from "./harness.js";

const MAX_BODY = 4096;
const VIEWER = `kg_admin_viewer_${randomBytes(16).toString("hex")}`;

let env: FacadeEnv;
let feeds: Feed[] = [];

beforeAll(async () => {
  env = await startFacade({
    config: {
      capture: { maxBodyBytes: MAX_BODY },
      admin: { tokens: [{ name: "dash", token: VIEWER, role: "viewer" }] },
    },
  });
});
afterAll(async () => {
  await env?.close();
});
beforeEach(() => env.resetFake());
afterEach(async () => {
  for (const f of feeds) f.stop();
  feeds = [];
  await waitForWatchers(env.gw.url, 0);
});

function setCapture(instanceId: string, captureMode: CaptureMode) {
  return env.admin.updateInstance({
    instance: { id: instanceId, captureMode },
    updateMask: { paths: ["capture_mode"] },
  });
}

/** The stored record as the admin sees it, once the background writer has flushed it. */
function stored(id: string, token?: string): Promise<RequestRecord> {
  const admin = token ? createAdminClient({ baseUrl: env.gw.url, token }) : env.admin;
  return waitFor(
    `record ${id}`,
    async () => (await admin.getRequest({ id }).catch(() => undefined))?.request,
  );
}

function watch(token: string | undefined, instanceId: string): Feed {
  const admin = token ? createAdminClient({ baseUrl: env.gw.url, token }) : env.admin;
  const feed = follow(admin, { filter: { instanceIds: [instanceId] } });
  feeds.push(feed);
  return feed;
}

const randomText = (n: number): string => randomBytes(n).toString("base64url").slice(0, n);

describe("capture_mode none and full, per instance", () => {
  it("none stores no bodies; full stores them; switching back to none stops storing", async () => {
    const a = await instanceWithKey(env.admin, { prefix: "cap" });
    const b = await instanceWithKey(env.admin, { prefix: "cap" });

    const before = await chat(env.gw.url, a.secret, MODELS.echo, "not kept");
    expect(before.status).toBe(200);
    expect((await stored(before.id)).capture).toBeUndefined();

    await setCapture(a.instanceId, CaptureMode.FULL);
    const kept = await chat(env.gw.url, a.secret, MODELS.echo, "kept");
    const other = await chat(env.gw.url, b.secret, MODELS.echo, "other instance");
    expect((await stored(kept.id)).capture?.requestBody).toBe(kept.raw);
    // Capture is per instance: b did not opt in.
    expect((await stored(other.id)).capture).toBeUndefined();

    await setCapture(a.instanceId, CaptureMode.NONE);
    const after = await chat(env.gw.url, a.secret, MODELS.echo, "not kept again");
    expect((await stored(after.id)).capture).toBeUndefined();
  });

  it("full keeps the exact request and response bytes, plain and streamed, echo and upstream, also on the live feed", async () => {
    const k = await instanceWithKey(env.admin, {
      prefix: "cap",
      instance: { captureMode: CaptureMode.FULL },
    });
    const feed = watch(undefined, k.instanceId);
    await waitForWatchers(env.gw.url, 1);
    const replies = [
      await chat(env.gw.url, k.secret, MODELS.echo, "echo plain"),
      await chat(env.gw.url, k.secret, MODELS.echo, "echo streamed", { stream: true }),
      await chat(env.gw.url, k.secret, MODELS.openai, "upstream plain"),
      await chat(env.gw.url, k.secret, MODELS.openai, "upstream streamed", { stream: true }),
    ];
    for (const r of replies) expect(r.status, r.text).toBe(200);
    // The upstream's answer is in the bodies, so they really are what was relayed.
    expect(replies[2]!.text).toContain(answerText(5));
    expect(replies[3]!.text).toContain("data: [DONE]");

    for (const r of replies) {
      const rec = await stored(r.id);
      expect(rec.capture, `capture of ${r.id}`).toBeDefined();
      expect(rec.capture?.requestBody).toBe(r.raw);
      expect(rec.capture?.responseBody).toBe(r.text);
      expect(rec.capture?.truncated).toBe(false);
    }

    const live = await feed.until(replies[3]!.id);
    expect(live.map((r) => r.id)).toEqual(replies.map((r) => r.id));
    for (const [i, r] of replies.entries()) {
      expect(live[i]?.capture, `live capture of ${r.id}`).toBeDefined();
      expect(live[i]?.capture?.requestBody).toBe(r.raw);
      expect(live[i]?.capture?.responseBody).toBe(r.text);
    }
  });
});

describe("secrets in captured bodies", () => {
  const secrets = {
    openai: `sk-proj-${randomText(40)}`,
    bearer: randomText(32),
    virtualKey: `kg_live_${randomText(43)}`,
    google: `AIzaSy${randomText(33)}`,
    jwt: [
      Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url"),
      Buffer.from(JSON.stringify({ sub: randomText(12), iat: 1700000000 })).toString("base64url"),
      randomText(43),
    ].join("."),
  };
  const prompt =
    `Please check these: my OpenAI key ${secrets.openai}, the header Authorization: Bearer ${secrets.bearer}, ` +
    `my gateway key ${secrets.virtualKey}, the Maps key ${secrets.google} and the session ${secrets.jwt}. Thanks!`;

  function expectRedacted(text: string | undefined, where: string): void {
    expect(text, where).toBeDefined();
    for (const [name, value] of Object.entries(secrets)) {
      expect(text, `${where} still holds the ${name} secret`).not.toContain(value);
      // Not even most of it.
      expect(text, `${where} still holds part of the ${name} secret`).not.toContain(value.slice(-16));
    }
    expect(text, where).toContain("[redacted]");
    expect(text, where).toContain("Please check these: my OpenAI key");
  }

  it("are redacted in stored request and response bodies, plain and streamed", async () => {
    const k = await instanceWithKey(env.admin, {
      prefix: "cap",
      instance: { captureMode: CaptureMode.FULL },
    });
    const plain = await chat(env.gw.url, k.secret, MODELS.echo, prompt);
    const streamed = await chat(env.gw.url, k.secret, MODELS.echo, prompt, { stream: true });
    const upstream = await chat(env.gw.url, k.secret, MODELS.openai, prompt);
    for (const r of [plain, streamed, upstream]) expect(r.status, r.text).toBe(200);
    // The echo provider repeats the prompt, so the secrets really were in both directions.
    expect(plain.text).toContain(secrets.jwt);

    for (const [name, r] of Object.entries({ plain, streamed, upstream })) {
      const rec = await stored(r.id);
      expectRedacted(rec.capture?.requestBody, `${name} request body`);
      if (name !== "upstream") {
        const body = rec.capture?.responseBody;
        for (const [secretName, value] of Object.entries(secrets))
          expect(body, `${name} response body still holds the ${secretName} secret`).not.toContain(value);
      }
    }
  });
});

describe("capture_mode metadata", () => {
  it("keeps the parameters but no message content and no answer", async () => {
    const k = await instanceWithKey(env.admin, {
      prefix: "cap",
      instance: { captureMode: CaptureMode.METADATA },
    });
    const marker = `CONTENT-${randomText(12)}`;
    const openai = await post(env.gw.url, "/v1/chat/completions", k.secret, {
      model: MODELS.openai,
      temperature: 0.25,
      max_tokens: 33,
      messages: [
        { role: "system", content: `system ${marker}` },
        { role: "user", content: `user ${marker}` },
      ],
      tools: [
        {
          type: "function",
          function: {
            name: "get_weather",
            description: `tool ${marker}`,
            parameters: { type: "object", properties: { city: { type: "string", description: marker } } },
          },
        },
      ],
    });
    const anthropic = await post(
      env.gw.url,
      "/v1/messages",
      k.secret,
      {
        model: MODELS.anthropic,
        max_tokens: 44,
        system: `system ${marker}`,
        messages: [{ role: "user", content: [{ type: "text", text: `user ${marker}` }] }],
      },
      { "anthropic-version": "2023-06-01" },
    );
    expect(openai.status, openai.text).toBe(200);
    expect(anthropic.status, anthropic.text).toBe(200);

    const o = await stored(openai.id);
    const params = JSON.parse(o.capture?.requestBody ?? "null") as Record<string, unknown>;
    expect(params).toMatchObject({ model: MODELS.openai, temperature: 0.25, max_tokens: 33 });
    const a = await stored(anthropic.id);
    expect(JSON.parse(a.capture?.requestBody ?? "null")).toMatchObject({
      model: MODELS.anthropic,
      max_tokens: 44,
    });
    for (const rec of [o, a]) {
      expect(rec.capture?.requestBody).not.toContain(marker);
      expect(rec.capture?.responseBody).toBe("");
      expect(rec.capture?.responseBody).not.toContain(answerText(5));
    }
  });
});

describe("who sees captured bodies", () => {
  it("a viewer gets the records without bodies, from GetRequest and from WatchRequests", async () => {
    const k = await instanceWithKey(env.admin, {
      prefix: "cap",
      instance: { captureMode: CaptureMode.FULL },
    });
    const adminFeed = watch(undefined, k.instanceId);
    const viewerFeed = watch(VIEWER, k.instanceId);
    await waitForWatchers(env.gw.url, 2);
    const r = await chat(env.gw.url, k.secret, MODELS.echo, "for admins only");
    expect(r.status).toBe(200);

    const asViewer = await stored(r.id, VIEWER);
    expect(asViewer.id).toBe(r.id);
    expect(asViewer.instanceId).toBe(k.instanceId);
    expect(asViewer.capture).toBeUndefined();
    expect((await stored(r.id)).capture?.requestBody).toBe(r.raw);

    const [viewerLive] = await viewerFeed.until(r.id);
    expect(viewerLive?.id).toBe(r.id);
    expect(viewerLive?.capture).toBeUndefined();
    const [adminLive] = await adminFeed.until(r.id);
    expect(adminLive?.capture?.requestBody).toBe(r.raw);
  });
});

describe("capture.maxBodyBytes", () => {
  it("cuts a large request and its echoed answer at the limit and marks the capture truncated", async () => {
    const k = await instanceWithKey(env.admin, {
      prefix: "cap",
      instance: { captureMode: CaptureMode.FULL },
    });
    const big = await chat(env.gw.url, k.secret, MODELS.echo, "x".repeat(3 * MAX_BODY));
    expect(big.status).toBe(200);
    const rec = await stored(big.id);
    expect(rec.capture?.truncated).toBe(true);
    expect(Buffer.byteLength(rec.capture?.requestBody ?? "")).toBe(MAX_BODY);
    expect(big.raw.startsWith(rec.capture?.requestBody ?? "-")).toBe(true);
    expect(Buffer.byteLength(rec.capture?.responseBody ?? "")).toBe(MAX_BODY);
    expect(big.text.startsWith(rec.capture?.responseBody ?? "-")).toBe(true);
  });

  it("cuts a long streamed answer while keeping the small request whole", async () => {
    const k = await instanceWithKey(env.admin, {
      prefix: "cap",
      instance: { captureMode: CaptureMode.FULL },
    });
    env.fake.streamChunks(200);
    const long = await chat(env.gw.url, k.secret, MODELS.openai, "tell me a long story", { stream: true });
    expect(long.status).toBe(200);
    expect(Buffer.byteLength(long.text)).toBeGreaterThan(MAX_BODY);
    const rec = await stored(long.id);
    expect(rec.capture?.truncated).toBe(true);
    expect(rec.capture?.requestBody).toBe(long.raw);
    expect(Buffer.byteLength(rec.capture?.responseBody ?? "")).toBe(MAX_BODY);
    expect(long.text.startsWith(rec.capture?.responseBody ?? "-")).toBe(true);
  });
});
