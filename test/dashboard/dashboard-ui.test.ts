// The dashboard in a real browser against an in-memory Admin API holding a 1,000-instance fleet.
import { rm } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { UsageDimension } from "../../sdk/index.js";
import { createFakeAdmin, record, seedFleet, type FakeAdmin } from "./fake-admin.js";
import { buildUi, launchBrowser, pageErrors, screenshot, serveFake, type Served } from "./harness.js";

const TOKEN = `kg_admin_${Math.random().toString(36).slice(2)}`;
const FLEET = 1000;

let fake: FakeAdmin;
let served: Served;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let errors: string[];
let uiDir: string;

beforeAll(async () => {
  fake = createFakeAdmin(TOKEN);
  seedFleet(fake, FLEET, new Date());
  uiDir = await buildUi();
  served = await serveFake(fake, uiDir);
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: served.baseUrl });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  errors = pageErrors(page);
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
  if (uiDir) await rm(uiDir, { recursive: true, force: true });
});

describe("dashboard against a 1,000-instance fleet", () => {
  it("refuses a wrong token inline and never stores it", async () => {
    await page.goto(`${served.baseUrl}/ui/`);
    await page.getByTestId("login-token").fill("kg_admin_wrong");
    await page.getByTestId("login-submit").click();
    await expect(page.getByTestId("login-error").textContent()).resolves.toMatch(/not accepted/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await screenshot(page, "fleet-login");
  });

  it("signs in and shows the status header", async () => {
    await page.getByTestId("login-token").fill(TOKEN);
    await page.getByTestId("login-submit").click();
    await page.getByTestId("status-header").waitFor();
    expect(await page.getByTestId("status-version").textContent()).toBe("v0.1.0-test");
    expect(await page.getByTestId("status-replica").textContent()).toContain("replica-a");
    expect(await page.getByTestId("status-db").getAttribute("data-state")).toBe("ok");
    expect(await page.getByTestId("status-redis").getAttribute("data-state")).toBe("down");
    // The token survives a reload of the tab, not the tab itself.
    await page.reload();
    await page.getByTestId("status-header").waitFor();
  });

  it("charts the top instances plus 'other' and pages the per-instance table", async () => {
    const usage = page.locator('[data-testid="usage-page"][data-state="ready"]');
    await usage.waitFor();
    const chart = page.getByTestId("usage-chart");
    const series = (await chart.getAttribute("data-series"))!.split(",");
    // Instance i has weight i, so the top 8 by requests are the 8 highest ids.
    expect(series).toEqual([
      ...Array.from({ length: 8 }, (_, k) => `agent-${String(999 - k).padStart(4, "0")}`),
      "other",
    ]);
    expect(await chart.locator(".u-legend .u-series").count()).toBe(series.length + 1);
    const expected = Array.from({ length: FLEET }, (_, i) => (i + 1) * 8).reduce((a, b) => a + b, 0);
    expect(await page.getByTestId("usage-total-requests").textContent()).toBe(
      expected.toLocaleString("en-US"),
    );
    // Every series query asked the gateway for aggregates only, narrowed to the 8 drawn.
    const narrowed = fake.usageQueries.filter((q) => q.filter?.instanceIds.length);
    expect(narrowed.length).toBeGreaterThan(0);
    expect(narrowed.every((q) => q.filter!.instanceIds.length === 8)).toBe(true);

    const rows = page.getByTestId("usage-row");
    expect(await rows.count()).toBe(25);
    expect(await rows.first().getAttribute("data-instance")).toBe("agent-0999");
    await page.getByTestId("usage-table-next").click();
    await expect.poll(() => rows.first().getAttribute("data-instance")).toBe("agent-0974");
    expect(await page.getByTestId("usage-table-page-number").textContent()).toBe("Page 2");
    await page.getByTestId("usage-table-find").fill("agent-0005");
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByTestId("usage-table-find").fill("");
    await screenshot(page, "fleet-usage");
  });

  it("re-splits by model and switches range and bucket", async () => {
    const before = fake.usageQueries.length;
    await page.getByTestId("usage-split").selectOption("model");
    await page.locator('[data-testid="usage-chart"][data-series*="gpt-4o"]').waitFor();
    const series = (await page.getByTestId("usage-chart").getAttribute("data-series"))!.split(",");
    expect(series.sort()).toEqual(["claude-3-5-sonnet-20241022", "gemini-1.5-pro", "gpt-4o", "llama3"]);
    expect(fake.usageQueries.slice(before).some((q) => q.groupBy.includes(UsageDimension.MODEL))).toBe(true);

    await page.getByTestId("usage-range-1h").check({ force: true });
    await page.locator('[data-testid="usage-range-label"]:has-text("per minute")').waitFor();
    await page.getByTestId("usage-range-30d").check({ force: true });
    await page.locator('[data-testid="usage-range-label"]:has-text("per day")').waitFor();
    await page.getByTestId("usage-range-custom").check({ force: true });
    await page.getByTestId("usage-from").fill("2020-01-02T00:00");
    await page.getByTestId("usage-to").fill("2020-01-01T00:00");
    await page.getByTestId("usage-apply").click();
    expect(await page.getByTestId("usage-error").textContent()).toMatch(/before the end/);
    await page.getByTestId("usage-split").selectOption("instance");
    await page.getByTestId("usage-range-24h").check({ force: true });
    await page.locator('[data-testid="usage-range-label"]:has-text("per hour")').waitFor();
  });

  it("streams live requests with filters, missed notices and pause/resume", async () => {
    await page.getByTestId("nav-live").click();
    await page.getByTestId("live-page").waitFor();
    await fake.watchers(1);
    fake.emit({ case: "record", value: record({ instanceId: "agent-0001", statusCode: 200 }) });
    fake.emit({
      case: "record",
      value: record({ instanceId: "agent-0002", statusCode: 502, errorClass: "upstream_error" }),
    });
    fake.emit({ case: "missed", value: 12n });
    await page.getByTestId("live-missed").waitFor();
    const rows = page.getByTestId("live-row");
    expect(await rows.count()).toBe(2);
    expect(await rows.first().getAttribute("data-instance")).toBe("agent-0002");
    expect(await page.getByTestId("live-missed").textContent()).toContain("12 missed");
    await screenshot(page, "fleet-live");

    await page.getByTestId("live-pause").click();
    fake.emit({ case: "record", value: record({ instanceId: "agent-0003", statusCode: 200 }) });
    await page.locator('[data-testid="live-resume"]:has-text("1 new")').waitFor();
    expect(await rows.count()).toBe(2);
    await page.getByTestId("live-resume").click();
    await expect.poll(() => rows.first().getAttribute("data-instance")).toBe("agent-0003");
    expect(await rows.count()).toBe(3);

    await page.getByTestId("live-filter-instance").fill("agent-0007");
    await page.getByTestId("live-filter-status").selectOption("5xx");
    await page.getByTestId("live-filter-apply").click();
    // The gateway does the filtering: the browser must ask for it, and the feed shows what comes back.
    await expect
      .poll(async () => {
        const w = await fake.watchers(1);
        return { instances: w.filter?.instanceIds, statuses: w.statuses };
      })
      .toEqual({ instances: ["agent-0007"], statuses: ["5xx"] });
    fake.emit({ case: "record", value: record({ instanceId: "agent-0007", statusCode: 200 }) });
    fake.emit({ case: "record", value: record({ instanceId: "agent-0007", statusCode: 503 }) });
    await page.locator('[data-testid="live-row"][data-status="503"]').waitFor();
    expect(await page.locator('[data-testid="live-row"][data-instance="agent-0007"]').count()).toBe(1);
    await page.getByTestId("live-filter-instance").fill("");
    await page.getByTestId("live-filter-status").selectOption("");
    await page.getByTestId("live-filter-apply").click();
  });

  it("pages 1,000 instances, creates one, disables it and manages its keys", async () => {
    await page.getByTestId("nav-instances").click();
    const rows = page.getByTestId("instance-row");
    await page.locator('[data-testid="instances-page"][data-state="ready"]').waitFor();
    expect(await rows.count()).toBe(50);
    expect(await rows.first().getAttribute("data-instance")).toBe("agent-0000");
    await page.getByTestId("instances-next").click();
    await page.locator('[data-testid="instance-row"][data-instance="agent-0050"]').waitFor();
    expect(await page.getByTestId("instances-page-number").textContent()).toBe("Page 2");
    await page.getByTestId("instances-prev").click();
    await page.locator('[data-testid="instance-row"][data-instance="agent-0000"]').waitFor();
    await page.getByTestId("instances-filter-labels").fill("team=red");
    await page.getByTestId("instances-filter-apply").click();
    // agent-0098 is on the first page only when every other instance is filtered out.
    await page.locator('[data-testid="instance-row"][data-instance="agent-0098"]').waitFor();
    expect(await page.locator('[data-testid="instance-row"][data-instance="agent-0001"]').count()).toBe(0);
    await page.getByTestId("instances-filter-labels").fill("");
    await page.getByTestId("instances-filter-apply").click();
    await page.locator('[data-testid="instance-row"][data-instance="agent-0001"]').waitFor();

    const first = page.locator('[data-testid="instance-row"][data-instance="agent-0001"]');
    await first.getByTestId("instance-toggle").click();
    await page
      .locator('[data-testid="instance-row"][data-instance="agent-0001"][data-disabled="true"]')
      .waitFor();
    expect(fake.instances.find((i) => i.id === "agent-0001")!.disabled).toBe(true);
    await screenshot(page, "fleet-instances");

    await page.getByTestId("instance-new-id").fill("agent-new");
    await page.getByTestId("instance-new-name").fill("New agent");
    await page.getByTestId("instance-create").click();
    await page.locator('[data-testid="instance-page"][data-instance="agent-new"]').waitFor();
    expect(fake.instances.find((i) => i.id === "agent-new")?.displayName).toBe("New agent");

    // A duplicate is refused inline.
    await page.goBack();
    await page.getByTestId("instance-new-id").fill("agent-new");
    await page.getByTestId("instance-create").click();
    expect(await page.getByTestId("instance-create-error").textContent()).toContain("already exists");
    await page.goForward();
    await page.locator('[data-testid="instance-page"][data-instance="agent-new"]').waitFor();

    await page.getByTestId("key-new-name").fill("laptop");
    await page.getByTestId("key-create").click();
    const dialog = page.getByTestId("secret-dialog");
    await dialog.waitFor();
    const secret = await page.getByTestId("secret-value").textContent();
    const issued = fake.keys.find((k) => k.instanceId === "agent-new")!;
    expect(secret).toMatch(/^kg_test_/);
    expect(secret!.startsWith(issued.prefix)).toBe(true);
    await page.getByTestId("secret-copy").click();
    await page.locator('[data-testid="secret-copy-status"]:has-text("Copied")').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await screenshot(page, "fleet-key-secret");
    await page.getByTestId("secret-close").click();
    await dialog.waitFor({ state: "detached" });
    // Shown once: nothing on the page holds it any more.
    expect(await page.content()).not.toContain(secret!);

    const keyRow = page.locator(`[data-testid="key-row"][data-key="${issued.id}"]`);
    await keyRow.getByTestId("key-rotate").click();
    await page.getByTestId("rotate-grace").selectOption({ label: "Keep it working for 1 hour" });
    await page.getByTestId("confirm-ok").click();
    await page.getByTestId("secret-dialog").waitFor();
    const rotated = await page.getByTestId("secret-value").textContent();
    expect(rotated).not.toBe(secret);
    await page.getByTestId("secret-close").click();

    await keyRow.getByTestId("key-revoke").click();
    await page.getByTestId("confirm-dialog").waitFor();
    await page.getByTestId("confirm-cancel").click();
    expect(fake.keys.find((k) => k.id === issued.id)!.revokedAt).toBeUndefined();
    await keyRow.getByTestId("key-revoke").click();
    await page.getByTestId("confirm-ok").click();
    await keyRow.waitFor({ state: "detached" });
    expect(fake.keys.find((k) => k.id === issued.id)!.revokedAt).toBeDefined();
    await page.getByTestId("keys-show-revoked").check();
    await page.locator(`[data-testid="key-row"][data-key="${issued.id}"][data-state="revoked"]`).waitFor();
    await screenshot(page, "fleet-instance-keys");
  });

  it("lists providers with breaker state and probes them", async () => {
    await page.getByTestId("nav-providers").click();
    const openai = page.locator('[data-testid="provider-row"][data-provider="openai"]');
    const anthropic = page.locator('[data-testid="provider-row"][data-provider="anthropic"]');
    await openai.waitFor();
    expect(await openai.getByTestId("provider-fingerprint").textContent()).toBe("sk-…abcd");
    expect(await anthropic.getByTestId("provider-breaker").textContent()).toContain("open");
    await anthropic.getByTestId("provider-probe").click();
    await anthropic.locator('[data-testid="probe-result"][data-ok="false"]').waitFor();
    expect(await openai.getByTestId("probe-result").count()).toBe(0);
    await page.getByTestId("probe-all").click();
    await openai.locator('[data-testid="probe-result"][data-ok="true"]').waitFor();
    expect(await openai.getByTestId("probe-result").textContent()).toContain("42 ms");
    await screenshot(page, "fleet-providers");
  });

  it("pages and filters the audit log", async () => {
    await page.getByTestId("nav-audit").click();
    const rows = page.getByTestId("audit-row");
    await page.locator('[data-testid="audit-page"][data-state="ready"]').waitFor();
    expect(await rows.count()).toBe(50);
    await page.getByTestId("audit-next").click();
    await page.locator('[data-testid="audit-page-number"]:has-text("Page 2")').waitFor();
    await page.getByTestId("audit-filter-actor").fill("ci");
    await page.getByTestId("audit-filter-action").fill("key.");
    await page.getByTestId("audit-filter-apply").click();
    // New filters start again at page 1.
    await page.locator('[data-testid="audit-page-number"]:has-text("Page 1")').waitFor();
    await page.locator('[data-testid="audit-page"][data-state="ready"]').waitFor();
    const expected = fake.audit.filter((e) => e.actor === "ci" && e.action.startsWith("key.")).length;
    expect(await rows.count()).toBe(expected);
    const actions = await rows.evaluateAll((els) => els.map((e) => e.getAttribute("data-action")));
    expect(new Set(actions)).toEqual(new Set(["key.create"]));
    await screenshot(page, "fleet-audit");
  });

  it("signs out and forgets the token", async () => {
    await page.getByTestId("logout").click();
    await page.getByTestId("login-page").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("returns to the login page when the token stops being accepted", async () => {
    await page.getByTestId("login-token").fill(TOKEN);
    await page.getByTestId("login-submit").click();
    await page.getByTestId("nav-usage").click();
    await page.locator('[data-testid="usage-page"][data-state="ready"]').waitFor();
    fake.setToken(`${TOKEN}-rotated`);
    await page.getByTestId("usage-refresh").click();
    await page.getByTestId("login-page").waitFor();
    expect(await page.getByTestId("login-notice").textContent()).toMatch(/not accepted/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(errors).toEqual([]);
  });
});
