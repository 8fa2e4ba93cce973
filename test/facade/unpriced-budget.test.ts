// A USD budget must not be spendable through a model keygate has no price for: such a request
// would cost money and count $0 against the budget. Under a budget, unpriced targets are skipped,
// and a request left with none is refused in the client's own format.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import OpenAI from "openai";
import { BudgetWindow } from "../../sdk/index.js";
import type { AdminClient } from "../../sdk/index.js";
import {
  ENV_NAMES,
  MODELS,
  PRICES,
  costOf,
  requestIdOf,
  startFacade,
  waitForRecord,
  type FacadeEnv,
  type IssuedKey,
} from "./harness.js";

/** Operator-priced model whose upstream reports serving it under another name. */
const CUSTOM = "acme-large";
const CUSTOM_PRICE = { input: 4, output: 12 };
/** An alias whose first target (by far the heaviest weight) has no price. */
const MIXED = "mixed-chat";
/** An alias whose only target has no price. */
const UNPRICED_ALIAS = "unpriced-chat";

const config = (unpricedModels?: "allow"): Record<string, unknown> => ({
  pricing: { ...PRICES, [CUSTOM]: CUSTOM_PRICE },
  routing: {
    aliases: {
      [MIXED]: [
        { provider: "openai", model: MODELS.unpriced, weight: 1000 },
        { provider: "openai", model: MODELS.openaiMini, weight: 1 },
      ],
      [UNPRICED_ALIAS]: [{ provider: "openai", model: MODELS.unpriced }],
    },
    retry: { maxAttempts: 1 },
  },
  ...(unpricedModels ? { budgets: { unpricedModels } } : {}),
});

const providers = (fake: { url: string }): Record<string, unknown> => ({
  acme: {
    type: "openai",
    apiKey: `\${${ENV_NAMES.openai}}`,
    baseUrl: `${fake.url}/v1`,
    models: [CUSTOM],
  },
});

async function keyWith(admin: AdminClient, budgetUsd?: number): Promise<IssuedKey> {
  const instanceId = `e2e-${randomUUID().slice(0, 8)}`;
  await admin.createInstance({ instanceId });
  const created = await admin.createKey({
    instanceId,
    displayName: "e2e",
    ...(budgetUsd === undefined ? {} : { budgets: [{ window: BudgetWindow.DAILY, limitUsd: budgetUsd }] }),
  });
  if (!created.key || !created.secret) throw new Error("CreateKey returned no key or secret");
  return { instanceId, keyId: created.key.id, secret: created.secret };
}

const client = (env: FacadeEnv, key: IssuedKey): OpenAI =>
  new OpenAI({ baseURL: `${env.gw.url}/v1`, apiKey: key.secret, maxRetries: 0 });

const ask = (env: FacadeEnv, key: IssuedKey, model: string, content = "Hi") =>
  client(env, key)
    .chat.completions.create({ model, messages: [{ role: "user", content }] })
    .withResponse();

const listed = async (env: FacadeEnv, key: IssuedKey): Promise<string[]> => {
  const ids: string[] = [];
  for await (const m of client(env, key).models.list()) ids.push(m.id);
  return ids;
};

const askedModels = (env: FacadeEnv, marker: string): unknown[] =>
  env.fake.requests
    .filter((r) => JSON.stringify(r.body).includes(marker))
    .map((r) => (r.body as { model?: unknown }).model);

describe("budgets and models without a price (default: refuse)", () => {
  let env: FacadeEnv;
  beforeAll(async () => {
    env = await startFacade({ config: config(), providers });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("a key with a USD budget gets 403 for an unpriced model; nothing reaches the upstream, and the refusal is recorded", async () => {
    const key = await keyWith(env.admin, 5);
    const marker = `unpriced-${randomUUID()}`;
    const err = await ask(env, key, MODELS.unpriced, marker).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    const denied = err as InstanceType<typeof OpenAI.PermissionDeniedError>;
    expect(denied.status).toBe(403);
    expect(denied.message).toContain(`'${MODELS.unpriced}' has no known price`);
    expect(askedModels(env, marker)).toEqual([]);

    const rec = await waitForRecord(env.admin, key.instanceId, denied.requestID!);
    expect(rec.statusCode).toBe(403);
    expect(rec.errorClass).toBe("forbidden");
    expect(rec.requestedModel).toBe(MODELS.unpriced);
    expect(rec.costUsd).toBe(0);

    // A priced model on the same key is served and counted against the budget.
    env.fake.setUsage("openai", { input: 1000, output: 100 });
    const { response } = await ask(env, key, MODELS.openai);
    const served = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    const cost = costOf(PRICES[MODELS.openai]!, { input: 1000, output: 100 });
    expect(served.costUsd).toBeCloseTo(cost, 12);
    const { budgets } = await env.admin.getLimitStatus({ keyId: key.keyId });
    expect(budgets[0]?.spentUsd).toBeCloseTo(cost, 6);

    // The key's model list leaves out what it may not use: names judged by where they route.
    const ids = await listed(env, key);
    expect(ids).toContain(MODELS.openai);
    expect(ids).toContain(MODELS.echo);
    expect(ids).toContain(MIXED);
    expect(ids).not.toContain(MODELS.unpriced);
    expect(ids).not.toContain(UNPRICED_ALIAS);
  });

  it("a key without a budget is still served an unpriced model, and sees it listed", async () => {
    const key = await keyWith(env.admin);
    const { data } = await ask(env, key, MODELS.unpriced);
    expect(data.model).toBe(MODELS.unpriced);
    expect(await listed(env, key)).toContain(MODELS.unpriced);
  });

  it("under a budget, an unpriced target is skipped for a priced one", async () => {
    const key = await keyWith(env.admin, 5);
    // Without the budget, the unpriced target comes first nearly every time (weight 1000 to 1).
    for (let i = 0; i < 3; i++) {
      const marker = `mixed-${randomUUID()}`;
      const { data } = await ask(env, key, MIXED, marker);
      expect(data.model).toBe(MODELS.openaiMini);
      expect(askedModels(env, marker)).toEqual([MODELS.openaiMini]);
    }
  });

  it("an answer naming a model with no price is priced as the model keygate asked for", async () => {
    const key = await keyWith(env.admin, 5);
    env.fake.answerAs("openai", CUSTOM, "acme-large-turbo-x");
    env.fake.setUsage("openai", { input: 2000, output: 300 });
    const { data, response } = await ask(env, key, CUSTOM);
    expect(data.model).toBe("acme-large-turbo-x");
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.servedModel).toBe("acme-large-turbo-x");
    const cost = costOf(CUSTOM_PRICE, { input: 2000, output: 300 });
    expect(rec.costUsd).toBeCloseTo(cost, 12);
    // The budget is charged that cost, not the request's larger reservation.
    const { budgets } = await env.admin.getLimitStatus({ keyId: key.keyId });
    expect(budgets[0]?.spentUsd).toBeCloseTo(cost, 6);
  });
});

describe("budgets and models without a price (budgets.unpricedModels: allow)", () => {
  let env: FacadeEnv;
  beforeAll(async () => {
    env = await startFacade({ config: config("allow"), providers });
  });
  afterAll(async () => {
    await env?.close();
  });

  it("a key with a USD budget is served an unpriced model, recorded with an unknown cost", async () => {
    const key = await keyWith(env.admin, 5);
    const { data, response } = await ask(env, key, MODELS.unpriced);
    expect(data.model).toBe(MODELS.unpriced);
    const rec = await waitForRecord(env.admin, key.instanceId, requestIdOf(response.headers));
    expect(rec.statusCode).toBe(200);
    expect(rec.costUsd).toBeUndefined();
  });
});
