import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { about, describeError } from "../../cli/src/errors.js";
import { collectPages } from "../../cli/src/paging.js";
import { redact, rememberSecret } from "../../cli/src/secrets.js";

const SERVER = "http://127.0.0.1:8484";

describe("gwctl error lines", () => {
  it("names the resource a NotFound or AlreadyExists was about", async () => {
    const nf = await about(
      'instance "x"',
      Promise.reject(new ConnectError("no such row", Code.NotFound)),
    ).catch((e: unknown) => e);
    expect(describeError(nf, SERVER)).toBe('not found: instance "x"');
    const dup = await about(
      'provider "p"',
      Promise.reject(new ConnectError("dup", Code.AlreadyExists)),
    ).catch((e: unknown) => e);
    expect(describeError(dup, SERVER)).toBe('already exists: provider "p"');
  });

  it("maps Connect codes to plain words", () => {
    expect(describeError(new ConnectError("bad token", Code.Unauthenticated), SERVER)).toBe(
      "unauthenticated: check --token or KEYGATE_ADMIN_TOKEN",
    );
    expect(describeError(new ConnectError("instance_id: must match", Code.InvalidArgument), SERVER)).toBe(
      "invalid argument: instance_id: must match",
    );
    expect(describeError(new ConnectError("viewer cannot", Code.PermissionDenied), SERVER)).toBe(
      "permission denied: viewer cannot",
    );
  });

  it("reports an unreachable server by its errno, through fetch's cause chain", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8484"), { code: "ECONNREFUSED" });
    const fetchFailed = new TypeError("fetch failed", { cause: refused });
    const wrapped = new ConnectError("fetch failed", Code.Unknown, undefined, undefined, fetchFailed);
    expect(describeError(wrapped, SERVER)).toBe(`cannot reach ${SERVER}: connection refused`);
    const multi = new TypeError("fetch failed", {
      cause: new AggregateError([Object.assign(new Error("x"), { code: "ENOTFOUND" })]),
    });
    expect(describeError(multi, SERVER)).toBe(`cannot reach ${SERVER}: host not found`);
    const badPort = new TypeError("fetch failed", { cause: new Error("bad port") });
    expect(describeError(badPort, "http://127.0.0.1:1")).toBe("cannot reach http://127.0.0.1:1: bad port");
  });

  it("never lets a known secret through, and keeps messages on one line", () => {
    rememberSecret("kg_admin_SENTINEL_0123456789");
    expect(redact("token kg_admin_SENTINEL_0123456789 was\nrejected")).toBe("token *** was rejected");
  });
});

describe("gwctl paging", () => {
  const items = Array.from({ length: 25 }, (_, i) => i);
  const fetchPage = async (token: string, size: number) => {
    const start = token ? Number(token) : 0;
    const page = items.slice(start, start + Math.min(size, 10));
    const next = start + page.length < items.length ? String(start + page.length) : "";
    return { items: page, next };
  };

  it("follows pages to the end", async () => {
    expect(await collectPages(fetchPage, {})).toEqual({ items, next: "" });
  });

  it("stops at the limit and returns where to continue", async () => {
    const first = await collectPages(fetchPage, { limit: 12 });
    expect(first).toEqual({ items: items.slice(0, 12), next: "12" });
    const rest = await collectPages(fetchPage, { pageToken: first.next });
    expect(rest.items).toEqual(items.slice(12));
  });
});
