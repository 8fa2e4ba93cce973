// gwctl providers: add, list, get, update, remove.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import { Option, type Command } from "commander";
import {
  CreateProviderResponseSchema,
  DeleteProviderResponseSchema,
  GetProviderResponseSchema,
  ListProvidersResponseSchema,
  ProviderSchema,
  ProviderSourceSchema,
  ProviderTimeoutsSchema,
  UpdateProviderResponseSchema,
  type Provider,
  type ProviderTimeouts,
} from "../../../sdk/index.js";
import { contextOf } from "../context.js";
import { readCredential, type CredentialFlags } from "../credential.js";
import { about, UsageError } from "../errors.js";
import { enumWord, list, text, yesNo } from "../format.js";
import { printDetails, printJson, printTable, say } from "../output.js";
import { collectPages } from "../paging.js";
import { oneOf, parseBool, parseDuration, parseList, parseNonNegativeInt } from "../parse.js";
import { breakerText, providerDetails } from "../views.js";
import { InvalidArgumentError } from "commander";

const TYPES = ["openai", "anthropic", "google", "ollama", "openai-compatible", "echo"] as const;

const TIMEOUT_FLAGS = [
  { flag: "connectTimeout", field: "connectMs", option: "--connect-timeout <duration>", what: "connecting" },
  {
    flag: "firstByteTimeout",
    field: "firstByteMs",
    option: "--first-byte-timeout <duration>",
    what: "the first byte",
  },
  { flag: "idleTimeout", field: "idleMs", option: "--idle-timeout <duration>", what: "silence mid-stream" },
  { flag: "totalTimeout", field: "totalMs", option: "--total-timeout <duration>", what: "the whole request" },
] as const;

interface ProviderFlags extends CredentialFlags {
  type?: (typeof TYPES)[number];
  baseUrl?: string;
  models?: string[];
  default?: boolean;
  weight?: number;
  connectTimeout?: number;
  firstByteTimeout?: number;
  idleTimeout?: number;
  totalTimeout?: number;
}

function parseBaseUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === "http:" || url.protocol === "https:") return value;
  } catch {
    // fall through to the error below
  }
  throw new InvalidArgumentError("expected an absolute http(s) URL");
}

function addCommonFlags(cmd: Command): Command {
  cmd
    .option("--base-url <url>", "upstream base URL", parseBaseUrl)
    .option("--models <a,b>", "models this provider serves", parseList)
    .option("--weight <n>", "relative weight among providers serving the same model", parseNonNegativeInt)
    .addOption(
      new Option("--credential-env <var>", "read the credential from this environment variable").conflicts(
        "credentialStdin",
      ),
    )
    .option("--credential-stdin", "read the credential from stdin")
    .addOption(new Option("--credential <value>").hideHelp());
  for (const t of TIMEOUT_FLAGS) cmd.option(t.option, `timeout for ${t.what} (e.g. 30s)`, parseDuration);
  return cmd;
}

/** Timeout flags applied over `base`; undefined when none was given. */
function timeoutsFrom(
  flags: ProviderFlags,
  base: ProviderTimeouts | undefined,
): ProviderTimeouts | undefined {
  if (!TIMEOUT_FLAGS.some((t) => flags[t.flag] !== undefined)) return undefined;
  const out = create(ProviderTimeoutsSchema, base ?? {});
  for (const t of TIMEOUT_FLAGS) {
    const ms = flags[t.flag];
    if (ms !== undefined) out[t.field] = BigInt(ms);
  }
  return out;
}

function show(p: Provider | undefined, verb: string): void {
  if (!p) return;
  say(`${verb} provider ${p.id}`);
  printDetails(providerDetails(p));
}

export function registerProviders(program: Command): void {
  const providers = program
    .command("providers")
    .description("manage upstream providers and their credentials");

  addCommonFlags(
    providers
      .command("add <id>")
      .description("add a provider; the credential comes from --credential-env or --credential-stdin")
      .requiredOption("--type <type>", `one of ${TYPES.join(", ")}`, oneOf(TYPES))
      .option("--default", "send requests without a routable model here"),
  ).action(async (id: string, flags: ProviderFlags, cmd: Command) => {
    const ctx = contextOf(cmd);
    const credential = await readCredential(flags);
    const timeouts = timeoutsFrom(flags, undefined);
    const provider = create(ProviderSchema, {
      type: flags.type ?? "",
      baseUrl: flags.baseUrl ?? "",
      models: flags.models ?? [],
      default: flags.default ?? false,
      weight: flags.weight ?? 0,
      credential: credential ?? "",
      ...(timeouts ? { timeouts } : {}),
    });
    const res = await about(`provider "${id}"`, ctx.client().createProvider({ providerId: id, provider }));
    if (ctx.output === "json") return printJson(CreateProviderResponseSchema, res);
    show(res.provider, "added");
  });

  providers
    .command("list")
    .description("list providers (credentials appear only as fingerprints)")
    .action(async (_flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const client = ctx.client();
      const page = await collectPages(async (pageToken, pageSize) => {
        const res = await client.listProviders({ pageToken, pageSize });
        return { items: res.providers, next: res.nextPageToken };
      }, {});
      if (ctx.output === "json") {
        return printJson(
          ListProvidersResponseSchema,
          create(ListProvidersResponseSchema, { providers: page.items }),
        );
      }
      printTable(
        ["ID", "TYPE", "SOURCE", "MODELS", "DEFAULT", "WEIGHT", "CREDENTIAL", "BREAKER"],
        page.items.map((p) => [
          p.id,
          p.type,
          enumWord(ProviderSourceSchema, p.source),
          list(p.models),
          yesNo(p.default),
          String(p.weight),
          text(p.credentialFingerprint),
          breakerText(p),
        ]),
        "(no providers)",
      );
    });

  providers
    .command("get <id>")
    .description("show one provider")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`provider "${id}"`, ctx.client().getProvider({ id }));
      if (ctx.output === "json") return printJson(GetProviderResponseSchema, res);
      if (res.provider) printDetails(providerDetails(res.provider));
    });

  addCommonFlags(
    providers
      .command("update <id>")
      .description("change the given fields of a provider")
      .option("--default <bool>", "true makes this the default provider", parseBool),
  ).action(async (id: string, flags: ProviderFlags, cmd: Command) => {
    const ctx = contextOf(cmd);
    const provider = create(ProviderSchema, { id });
    const paths: string[] = [];
    if (flags.baseUrl !== undefined) {
      provider.baseUrl = flags.baseUrl;
      paths.push("base_url");
    }
    if (flags.models !== undefined) {
      provider.models = flags.models;
      paths.push("models");
    }
    if (flags.default !== undefined) {
      provider.default = flags.default;
      paths.push("default");
    }
    if (flags.weight !== undefined) {
      provider.weight = flags.weight;
      paths.push("weight");
    }
    const credential = await readCredential(flags);
    if (credential !== undefined) {
      provider.credential = credential;
      paths.push("credential");
    }
    const hasTimeouts = TIMEOUT_FLAGS.some((t) => flags[t.flag] !== undefined);
    if (paths.length === 0 && !hasTimeouts) {
      throw new UsageError(
        "providers update: nothing to change (give --base-url, --models, --default, --weight, a credential or a timeout)",
      );
    }
    const client = ctx.client();
    if (hasTimeouts) {
      // The mask replaces all timeouts at once, so keep the ones not named on the command line.
      const current = await about(`provider "${id}"`, client.getProvider({ id }));
      provider.timeouts = timeoutsFrom(flags, current.provider?.timeouts);
      paths.push("timeouts");
    }
    const res = await about(
      `provider "${id}"`,
      client.updateProvider({ provider, updateMask: create(FieldMaskSchema, { paths }) }),
    );
    if (ctx.output === "json") return printJson(UpdateProviderResponseSchema, res);
    show(res.provider, "updated");
  });

  providers
    .command("remove <id>")
    .description("remove a provider")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`provider "${id}"`, ctx.client().deleteProvider({ id }));
      if (ctx.output === "json") return printJson(DeleteProviderResponseSchema, res);
      say(`removed provider ${id}`);
    });
}
