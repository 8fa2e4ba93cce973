// The whole product in a browser: a spawned gateway, the built dashboard, and agent traffic sent
// with the official OpenAI SDK through the façade using a key issued in the UI.
import OpenAI from "openai";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildAll,
  launchBrowser,
  pageErrors,
  screenshot,
  spawnGateway,
  type SpawnedGateway,
} from "./harness.js";

const INSTANCE = `e2e-${Date.now().toString(36)}`;

let gw: SpawnedGateway;
let browser: Browser;
let page: Page;
let errors: string[];
let secret = "";
let sent = 0;

function agent(): OpenAI {
  return new OpenAI({ apiKey: secret, baseURL: `${gw.url}/v1`, maxRetries: 0 });
}

async function chat(): Promise<string | null | undefined> {
  const res = await agent().chat.completions.create({
    model: "echo-1",
    messages: [{ role: "user", content: "hello from the dashboard test" }],
  });
  sent += 1;
  return res.choices[0]?.message.content;
}

beforeAll(async () => {
  await buildAll();
  gw = await spawnGateway();
  browser = await launchBrowser();
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: gw.url });
  page = await context.newPage();
  page.setDefaultTimeout(15_000);
  errors = pageErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await gw?.close();
});

describe("dashboard on a running gateway", () => {
  it("is served at /ui and signs in with the admin token", async () => {
    await page.goto(`${gw.url}/ui`);
    expect(new URL(page.url()).pathname).toBe("/ui/");
    await page.getByTestId("login-token").fill("kg_admin_not_this_one");
    await page.getByTestId("login-submit").click();
    await page.getByTestId("login-error").waitFor();
    await screenshot(page, "dashboard-login");
    await page.getByTestId("login-token").fill(gw.adminToken);
    await page.getByTestId("login-submit").click();
    await page.getByTestId("status-header").waitFor();
    expect(await page.getByTestId("status-version").textContent()).toMatch(/^v\d/);
    expect(await page.getByTestId("status-db").getAttribute("data-state")).toBe("ok");
  });

  it("creates an instance and a key, whose secret is shown once", async () => {
    await page.getByTestId("nav-instances").click();
    await page.getByTestId("instance-new-id").fill(INSTANCE);
    await page.getByTestId("instance-new-name").fill("Dashboard e2e");
    await page.getByTestId("instance-create").click();
    await page.locator(`[data-testid="instance-page"][data-instance="${INSTANCE}"]`).waitFor();
    await page.getByTestId("key-new-name").fill("e2e key");
    await page.getByTestId("key-create").click();
    await page.getByTestId("secret-dialog").waitFor();
    secret = (await page.getByTestId("secret-value").textContent()) ?? "";
    expect(secret.length).toBeGreaterThan(32);
    await page.getByTestId("secret-copy").click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await screenshot(page, "dashboard-key-secret");
    await page.getByTestId("secret-close").click();
    await page.getByTestId("secret-dialog").waitFor({ state: "detached" });
    await page.locator('[data-testid="key-row"][data-state="active"]').waitFor();
    expect(await page.content()).not.toContain(secret);
    await screenshot(page, "dashboard-instance-keys");
  });

  it("shows the key's traffic in the live feed", async () => {
    await page.getByTestId("nav-live").click();
    await page.getByTestId("live-page").waitFor();
    const row = page.locator(`[data-testid="live-row"][data-instance="${INSTANCE}"]`);
    // The feed only carries requests completed after it subscribed; keep sending until one shows.
    for (let attempt = 0; attempt < 20 && (await row.count()) === 0; attempt++) {
      expect(await chat()).toBeTruthy();
      await row
        .first()
        .waitFor({ timeout: 1000 })
        .catch(() => undefined);
    }
    await row.first().waitFor();
    expect(await row.first().getAttribute("data-status")).toBe("200");
    expect(await row.first().textContent()).toContain("echo-1");
    await screenshot(page, "dashboard-live");
  });

  it("charts the traffic and counts it per instance", async () => {
    for (let i = 0; i < 3; i++) await chat();
    await page.getByTestId("nav-usage").click();
    await page.getByTestId("usage-range-1h").check({ force: true });
    const row = page.locator(`[data-testid="usage-row"][data-instance="${INSTANCE}"]`);
    // Usage is written in batches in the background; refresh until all of it has landed.
    await expect
      .poll(
        async () => {
          await page.getByTestId("usage-refresh").click();
          await page.locator('[data-testid="usage-page"][data-state="ready"]').waitFor();
          if ((await row.count()) === 0) return 0;
          return Number((await row.getByTestId("usage-row-requests").textContent())?.replace(/,/g, ""));
        },
        { timeout: 20_000, interval: 500 },
      )
      .toBe(sent);
    const series = (await page.getByTestId("usage-chart").getAttribute("data-series"))!.split(",");
    expect(series).toContain(INSTANCE);
    expect(await page.locator(".u-legend").textContent()).toContain(INSTANCE);
    await page.getByTestId("usage-split").selectOption("model");
    await page.locator('[data-testid="usage-chart"][data-series*="echo-1"]').waitFor();
    await page.getByTestId("usage-split").selectOption("instance");
    await page.locator(`[data-testid="usage-chart"][data-series*="${INSTANCE}"]`).waitFor();
    await screenshot(page, "dashboard-usage");
  });

  it("lists and probes the providers", async () => {
    await page.getByTestId("nav-providers").click();
    const echo = page.locator('[data-testid="provider-row"][data-provider="echo"]');
    await echo.waitFor();
    await echo.getByTestId("provider-probe").click();
    await echo.getByTestId("probe-result").waitFor();
    await screenshot(page, "dashboard-providers");
  });

  it("revokes the key in the UI, after which the agent gets 401", async () => {
    await page.goto(`${gw.url}/ui/#/instances/${INSTANCE}`);
    const key = page.locator('[data-testid="key-row"][data-state="active"]');
    await key.getByTestId("key-revoke").click();
    await page.getByTestId("confirm-ok").click();
    await page.getByTestId("confirm-dialog").waitFor({ state: "detached" });
    await page.getByTestId("keys-show-revoked").check();
    await page.locator('[data-testid="key-row"][data-state="revoked"]').waitFor();
    await expect(chat()).rejects.toMatchObject({ status: 401 });

    await page.getByTestId("nav-instances").click();
    await page.locator(`[data-testid="instance-row"][data-instance="${INSTANCE}"]`).waitFor();
    await screenshot(page, "dashboard-instances");
  });

  it("records every action in the audit log", async () => {
    await page.getByTestId("nav-audit").click();
    await page.locator('[data-testid="audit-page"][data-state="ready"]').waitFor();
    for (const action of ["instance.create", "key.create", "key.revoke"]) {
      expect(
        await page.locator(`[data-testid="audit-row"][data-action="${action}"]`).count(),
      ).toBeGreaterThan(0);
    }
    await page.getByTestId("audit-filter-action").fill("key.");
    await page.getByTestId("audit-filter-apply").click();
    await expect
      .poll(async () => {
        const actions = await page
          .getByTestId("audit-row")
          .evaluateAll((els) => els.map((e) => e.getAttribute("data-action") ?? ""));
        return actions.length > 0 && actions.every((a) => a.startsWith("key."));
      })
      .toBe(true);
    expect(await page.content()).not.toContain(secret);
    await screenshot(page, "dashboard-audit");
  });

  it("signs out and ran without page errors", async () => {
    await page.getByTestId("logout").click();
    await page.getByTestId("login-page").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(errors).toEqual([]);
  });
});
