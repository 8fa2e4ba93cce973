import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import {
  collectBudget,
  collectCidr,
  collectLabel,
  collectList,
  parseAliasTarget,
  parseBool,
  parseDuration,
  parseExpiry,
  parseInstant,
  parseLimit,
  parsePositiveInt,
} from "../../cli/src/parse.js";

const NOW = new Date("2026-03-01T12:00:00Z");

describe("gwctl flag parsers", () => {
  it("reads durations, including compound ones", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("15m")).toBe(900_000);
    expect(parseDuration("24h")).toBe(86_400_000);
    expect(parseDuration("7d")).toBe(604_800_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    for (const bad of ["", "10", "h", "1.5h", "-1h", "3x", "1 h"]) {
      expect(() => parseDuration(bad), bad).toThrow(InvalidArgumentError);
    }
  });

  it("reads instants as RFC 3339 times or durations before now", () => {
    expect(parseInstant("24h", NOW).toISOString()).toBe("2026-02-28T12:00:00.000Z");
    expect(parseInstant("2026-01-31T00:00:00Z", NOW).toISOString()).toBe("2026-01-31T00:00:00.000Z");
    expect(parseInstant("2026-01-31T02:00:00+02:00", NOW).toISOString()).toBe("2026-01-31T00:00:00.000Z");
    expect(parseInstant("2026-01-31", NOW).toISOString()).toBe("2026-01-31T00:00:00.000Z");
    expect(() => parseInstant("yesterday", NOW)).toThrow(InvalidArgumentError);
    expect(() => parseInstant("2026-13-45T00:00:00Z", NOW)).toThrow(InvalidArgumentError);
  });

  it("reads key expiry as a lifetime or a future time", () => {
    expect(parseExpiry("24h", NOW)).toEqual({ ttlMs: 86_400_000 });
    expect(parseExpiry("2026-12-31T00:00:00Z", NOW)).toEqual({ at: new Date("2026-12-31T00:00:00Z") });
    expect(() => parseExpiry("2020-01-01T00:00:00Z", NOW)).toThrow(/past/);
    expect(() => parseExpiry("0s", NOW)).toThrow(/longer than zero/);
    expect(() => parseExpiry("soon", NOW)).toThrow(InvalidArgumentError);
  });

  it("reads numbers, booleans and lists strictly", () => {
    expect(parsePositiveInt("25")).toBe(25);
    expect(() => parsePositiveInt("0")).toThrow(InvalidArgumentError);
    expect(() => parsePositiveInt("2.5")).toThrow(InvalidArgumentError);
    expect(parseLimit("9007199254740993")).toBe(9007199254740993n);
    expect(() => parseLimit("0")).toThrow(InvalidArgumentError);
    expect(parseBool("TRUE")).toBe(true);
    expect(parseBool("false")).toBe(false);
    expect(() => parseBool("yes")).toThrow(InvalidArgumentError);
    expect(collectList("b, c,,", collectList("a", undefined))).toEqual(["a", "b", "c"]);
  });

  it("reads labels and refuses malformed or repeated ones", () => {
    expect(collectLabel("team=core", collectLabel("env=prod", undefined))).toEqual({
      env: "prod",
      team: "core",
    });
    expect(collectLabel("empty=", undefined)).toEqual({ empty: "" });
    expect(() => collectLabel("novalue", undefined)).toThrow(InvalidArgumentError);
    expect(() => collectLabel("=x", undefined)).toThrow(InvalidArgumentError);
    expect(() => collectLabel("env=dev", { env: "prod" })).toThrow(/twice/);
  });

  it("reads CIDRs and turns bare addresses into single-host ranges", () => {
    expect(collectCidr("10.0.0.0/8", undefined)).toEqual(["10.0.0.0/8"]);
    expect(collectCidr("192.168.1.7", ["10.0.0.0/8"])).toEqual(["10.0.0.0/8", "192.168.1.7/32"]);
    expect(collectCidr("::1", undefined)).toEqual(["::1/128"]);
    expect(() => collectCidr("10.0.0.0/33", undefined)).toThrow(InvalidArgumentError);
    expect(() => collectCidr("example.com", undefined)).toThrow(InvalidArgumentError);
  });

  it("reads budgets as USD per window", () => {
    expect(collectBudget("$120.50/month", collectBudget("5/day", undefined))).toEqual([
      { limitUsd: 5, window: "day" },
      { limitUsd: 120.5, window: "month" },
    ]);
    expect(() => collectBudget("5/year", undefined)).toThrow(/day\|week\|month\|total/);
    expect(() => collectBudget("0/day", undefined)).toThrow(InvalidArgumentError);
    expect(() => collectBudget("five/day", undefined)).toThrow(InvalidArgumentError);
  });

  it("reads alias targets whose model names contain slashes and colons", () => {
    expect(parseAliasTarget("openai/gpt-4o")).toEqual({ providerId: "openai", model: "gpt-4o", weight: 0 });
    expect(parseAliasTarget("openrouter/anthropic/claude-3.5-sonnet:3")).toEqual({
      providerId: "openrouter",
      model: "anthropic/claude-3.5-sonnet",
      weight: 3,
    });
    expect(parseAliasTarget("ollama/codellama:34b")).toEqual({
      providerId: "ollama",
      model: "codellama:34b",
      weight: 0,
    });
    expect(parseAliasTarget("ollama/qwen:7:2")).toEqual({ providerId: "ollama", model: "qwen:7", weight: 2 });
    for (const bad of ["gpt-4o", "/gpt-4o", "openai/"]) {
      expect(() => parseAliasTarget(bad), bad).toThrow(InvalidArgumentError);
    }
  });
});
