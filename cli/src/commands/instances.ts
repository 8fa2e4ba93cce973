// gwctl instances: create, list, get, update, delete, disable, enable.
import { create } from "@bufbuild/protobuf";
import { FieldMaskSchema } from "@bufbuild/protobuf/wkt";
import type { Command } from "commander";
import {
  CaptureMode,
  CaptureModeSchema,
  CreateInstanceResponseSchema,
  DeleteInstanceResponseSchema,
  GetInstanceResponseSchema,
  InstanceSchema,
  ListInstancesResponseSchema,
  UpdateInstanceResponseSchema,
  type Instance,
} from "../../../sdk/index.js";
import { contextOf, type Context } from "../context.js";
import { about, UsageError } from "../errors.js";
import { enumWord, labels, text, time } from "../format.js";
import { printDetails, printJson, printTable, say } from "../output.js";
import { collectPages } from "../paging.js";
import { collectLabel, oneOf, parseBool, parsePositiveInt } from "../parse.js";
import { instanceDetails } from "../views.js";

const CAPTURE_WORDS = ["none", "metadata", "full"] as const;
const CAPTURE: Record<(typeof CAPTURE_WORDS)[number], CaptureMode> = {
  none: CaptureMode.NONE,
  metadata: CaptureMode.METADATA,
  full: CaptureMode.FULL,
};

interface InstanceFlags {
  name?: string;
  label?: Record<string, string>;
  tag?: string;
  capture?: (typeof CAPTURE_WORDS)[number];
  disabled?: boolean;
}

function addInstanceFlags(cmd: Command): Command {
  return cmd
    .option("--name <name>", "display name")
    .option("--label <key=value>", "label (repeatable); on update, replaces all labels", collectLabel)
    .option("--tag <tag>", "default routing tag for this instance's requests")
    .option("--capture <mode>", "body capture: none|metadata|full", oneOf(CAPTURE_WORDS));
}

function showInstance(instance: Instance | undefined, verb: string): void {
  if (!instance) return;
  say(`${verb} instance ${instance.id}`);
  printDetails(instanceDetails(instance));
}

export function registerInstances(program: Command): void {
  const instances = program.command("instances").description("manage agent instances");

  addInstanceFlags(instances.command("create <id>").description("create an instance")).action(
    async (id: string, flags: InstanceFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      const instance = create(InstanceSchema, {
        displayName: flags.name ?? "",
        labels: flags.label ?? {},
        tag: flags.tag ?? "",
        captureMode: flags.capture ? CAPTURE[flags.capture] : CaptureMode.UNSPECIFIED,
      });
      const res = await about(`instance "${id}"`, ctx.client().createInstance({ instanceId: id, instance }));
      if (ctx.output === "json") return printJson(CreateInstanceResponseSchema, res);
      showInstance(res.instance, "created");
    },
  );

  instances
    .command("list")
    .description("list instances")
    .option("--label <key=value>", "only instances carrying this label (repeatable)", collectLabel)
    .option("--limit <n>", "at most this many (default: all)", parsePositiveInt)
    .option("--page-token <token>", "continue from a previous listing")
    .action(
      async (flags: { label?: Record<string, string>; limit?: number; pageToken?: string }, cmd: Command) => {
        const ctx = contextOf(cmd);
        const filter = flags.label ?? {};
        const client = ctx.client();
        const page = await collectPages(
          async (pageToken, pageSize) => {
            const res = await client.listInstances({ pageToken, pageSize, labels: filter });
            return { items: res.instances, next: res.nextPageToken };
          },
          { limit: flags.limit, pageToken: flags.pageToken },
        );
        if (ctx.output === "json") {
          return printJson(
            ListInstancesResponseSchema,
            create(ListInstancesResponseSchema, { instances: page.items, nextPageToken: page.next }),
          );
        }
        printTable(
          ["ID", "NAME", "STATE", "LABELS", "TAG", "CAPTURE", "CREATED"],
          page.items.map((i) => [
            i.id,
            text(i.displayName),
            i.disabled ? "disabled" : "enabled",
            labels(i.labels),
            text(i.tag),
            enumWord(CaptureModeSchema, i.captureMode),
            time(i.createTime),
          ]),
          "(no instances)",
        );
        if (page.next) say(`more: --page-token ${page.next}`);
      },
    );

  instances
    .command("get <id>")
    .description("show one instance")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`instance "${id}"`, ctx.client().getInstance({ id }));
      if (ctx.output === "json") return printJson(GetInstanceResponseSchema, res);
      if (res.instance) printDetails(instanceDetails(res.instance));
    });

  addInstanceFlags(instances.command("update <id>").description("change the given fields of an instance"))
    .option("--disabled <bool>", "true refuses the instance's keys everywhere", parseBool)
    .action(async (id: string, flags: InstanceFlags, cmd: Command) => {
      const ctx = contextOf(cmd);
      // Only the fields named on the command line change: an empty mask would mean "every field".
      const paths: string[] = [];
      const instance = create(InstanceSchema, { id });
      if (flags.name !== undefined) {
        instance.displayName = flags.name;
        paths.push("display_name");
      }
      if (flags.label !== undefined) {
        instance.labels = flags.label;
        paths.push("labels");
      }
      if (flags.tag !== undefined) {
        instance.tag = flags.tag;
        paths.push("tag");
      }
      if (flags.capture !== undefined) {
        instance.captureMode = CAPTURE[flags.capture];
        paths.push("capture_mode");
      }
      if (flags.disabled !== undefined) {
        instance.disabled = flags.disabled;
        paths.push("disabled");
      }
      if (paths.length === 0) {
        throw new UsageError(
          "instances update: nothing to change (give --name, --label, --tag, --capture or --disabled)",
        );
      }
      await updateInstance(ctx, instance, paths, "updated");
    });

  for (const [verb, disabled] of [
    ["disable", true],
    ["enable", false],
  ] as const) {
    instances
      .command(`${verb} <id>`)
      .description(
        disabled ? "refuse every key of an instance, on every replica" : "accept the instance's keys again",
      )
      .action(async (id: string, _flags: unknown, cmd: Command) => {
        const ctx = contextOf(cmd);
        await updateInstance(ctx, create(InstanceSchema, { id, disabled }), ["disabled"], `${verb}d`);
      });
  }

  instances
    .command("delete <id>")
    .description("delete an instance")
    .action(async (id: string, _flags: unknown, cmd: Command) => {
      const ctx = contextOf(cmd);
      const res = await about(`instance "${id}"`, ctx.client().deleteInstance({ id }));
      if (ctx.output === "json") return printJson(DeleteInstanceResponseSchema, res);
      say(`deleted instance ${id}`);
    });
}

async function updateInstance(
  ctx: Context,
  instance: Instance,
  paths: string[],
  verb: string,
): Promise<void> {
  const res = await about(
    `instance "${instance.id}"`,
    ctx.client().updateInstance({ instance, updateMask: create(FieldMaskSchema, { paths }) }),
  );
  if (ctx.output === "json") return printJson(UpdateInstanceResponseSchema, res);
  showInstance(res.instance, verb);
}
