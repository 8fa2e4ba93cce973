// gwctl keys: create, list, get, revoke, rotate, delete.
import { create } from "@bufbuild/protobuf";
import { durationFromMs, timestampFromDate } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import {
  CreateKeyResponseSchema,
  DeleteKeyResponseSchema,
  GetKeyResponseSchema,
  ListKeysResponseSchema,
  RevokeKeyResponseSchema,
  RotateKeyResponseSchema,
} from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { about } from "../errors.js";
import { list, text, time } from "../format.js";
import { printDetails, printJson, printTable, say } from "../output.js";
import { collectPages } from "../paging.js";
import { collectCidr, parseDuration, parseExpiry, parseList, type Expiry } from "../parse.js";
import { keyDetails, keyState } from "../views.js";

const ONCE = "Store this secret now: it is shown only once and cannot be retrieved again.";

interface CreateFlags {
  instance: string;
  name?: string;
  models?: string[];
  expires?: Expiry;
  cidr?: string[];
  tag?: string;
}

export function registerKeys(program: Command): void {
  const keys = program.command("keys").description("manage virtual keys");

  keys
    .command("create")
    .description("create a virtual key for an instance (prints the secret once)")
    .requiredOption("--instance <id>", "the instance the key belongs to")
    .option("--name <name>", "display name")
    .option("--models <a,b>", "allowed model names or globs", parseList)
    .option("--expires <when>", "lifetime (24h) or RFC 3339 time", (v: string) => parseExpiry(v))
    .option("--cidr <cidr>", "source address range the key may be used from (repeatable)", collectCidr)
    .option("--tag <tag>", "routing tag for this key's requests")
    .action(async (flags: CreateFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const expires = flags.expires;
      const res = await about(
        `instance "${flags.instance}"`,
        ctx.client().createKey({
          instanceId: flags.instance,
          displayName: flags.name ?? "",
          allowedModels: flags.models ?? [],
          sourceCidrs: flags.cidr ?? [],
          tag: flags.tag ?? "",
          ...(expires && "at" in expires ? { expiresAt: timestampFromDate(expires.at) } : {}),
          ...(expires && "ttlMs" in expires ? { ttl: durationFromMs(expires.ttlMs) } : {}),
        }),
      );
      if (ctx.output === "json") return printJson(CreateKeyResponseSchema, res);
      say(`secret: ${res.secret}`);
      say(ONCE);
      if (res.key) printDetails(keyDetails(res.key));
    });

  keys
    .command("list")
    .description("list virtual keys (never their secrets)")
    .option("--instance <id>", "only this instance's keys")
    .option("--all", "include revoked keys")
    .action(async (flags: { instance?: string; all?: boolean }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = ctx.client();
      const page = await collectPages(async (pageToken, pageSize) => {
        const res = await client.listKeys({
          pageToken,
          pageSize,
          instanceId: flags.instance ?? "",
          includeRevoked: flags.all ?? false,
        });
        return { items: res.keys, next: res.nextPageToken };
      }, {});
      if (ctx.output === "json") {
        return printJson(ListKeysResponseSchema, create(ListKeysResponseSchema, { keys: page.items }));
      }
      printTable(
        ["ID", "INSTANCE", "NAME", "PREFIX", "STATE", "MODELS", "EXPIRES", "LAST USED"],
        page.items.map((k) => [
          k.id,
          k.instanceId,
          text(k.displayName),
          text(k.prefix),
          keyState(k),
          list(k.allowedModels),
          time(k.expiresAt),
          time(k.lastUsedAt),
        ]),
        "(no keys)",
      );
    });

  keys
    .command("get <id>")
    .description("show one key")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`key "${id}"`, ctx.client().getKey({ id }));
      if (ctx.output === "json") return printJson(GetKeyResponseSchema, res);
      if (res.key) printDetails(keyDetails(res.key));
    });

  keys
    .command("revoke <id>")
    .description("revoke a key at once, on every replica")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`key "${id}"`, ctx.client().revokeKey({ id }));
      if (ctx.output === "json") return printJson(RevokeKeyResponseSchema, res);
      const k = res.key;
      say(
        `revoked key ${id} (instance ${k?.instanceId ?? "-"}, prefix ${text(k?.prefix)}) at ${time(k?.revokedAt)}`,
      );
    });

  keys
    .command("rotate <id>")
    .description("issue a new secret for a key (prints it once)")
    .option("--grace <duration>", "how long the old secret keeps working (default: none)", parseDuration)
    .action(async (id: string, flags: { grace?: number }, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(
        `key "${id}"`,
        ctx.client().rotateKey({
          id,
          ...(flags.grace !== undefined ? { gracePeriod: durationFromMs(flags.grace) } : {}),
        }),
      );
      if (ctx.output === "json") return printJson(RotateKeyResponseSchema, res);
      say(`secret: ${res.secret}`);
      say(ONCE);
      const until = res.key?.previousSecretExpiresAt;
      say(until ? `the old secret keeps working until ${time(until)}` : "the old secret no longer works");
    });

  keys
    .command("delete <id>")
    .description("delete a key")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`key "${id}"`, ctx.client().deleteKey({ id }));
      if (ctx.output === "json") return printJson(DeleteKeyResponseSchema, res);
      say(`deleted key ${id}`);
    });
}
