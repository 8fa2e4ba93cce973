// Instances: CreateInstance, GetInstance, ListInstances, UpdateInstance, DeleteInstance.
import type { ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../../sdk/gen/keygate/v1/admin_service_pb.js";
import { isUniqueViolation } from "../store/errors.js";
import {
  createInstance,
  deleteInstance,
  getInstance,
  listInstances,
  updateInstance,
  type InstanceFields,
} from "../store/instances.js";
import { instanceMessage } from "./convert.js";
import { mutate, type Svc } from "./deps.js";
import { alreadyExists, invalid, notFound } from "./errors.js";
import { maskPaths } from "./field-mask.js";
import { decodeIdToken, encodeIdToken, pageSize } from "./page.js";
import { limitsChanged, toPolicyJson } from "./policy-input.js";
import { checkId, checkLabels, checkRequired, checkText, toCaptureMode } from "./validate.js";

const UPDATE_PATHS = [
  "display_name",
  "labels",
  "disabled",
  "policy",
  "policy.allowed_models",
  "policy.rate_limit",
  "policy.budgets",
  "tag",
  "capture_mode",
] as const;

export function instanceService(svc: Svc): Partial<ServiceImpl<typeof AdminService>> {
  return {
    async createInstance(req, ctx) {
      const id = checkId("instance_id", checkRequired("instance_id", req.instanceId));
      const inst = req.instance;
      if (inst?.id && inst.id !== id) throw invalid("instance.id", "must be empty or equal instance_id");
      const fields: InstanceFields = {
        displayName: checkText("instance.display_name", inst?.displayName ?? ""),
        labels: checkLabels("instance.labels", inst?.labels ?? {}),
        disabled: inst?.disabled ?? false,
        policy: toPolicyJson("instance.policy", inst?.policy),
        tag: checkText("instance.tag", inst?.tag ?? "", 64),
        captureMode: toCaptureMode("instance.capture_mode", inst?.captureMode ?? 0),
      };
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        let created;
        try {
          created = await createInstance(trx, id, fields, now);
        } catch (err) {
          if (isUniqueViolation(err)) throw alreadyExists("instance", id);
          throw err;
        }
        await audit("instance.create", `instances/${id}`, {
          display_name: fields.displayName,
          labels: fields.labels,
          disabled: fields.disabled,
          policy: fields.policy,
          tag: fields.tag,
          capture_mode: fields.captureMode,
        });
        return created;
      });
      return { instance: instanceMessage(row) };
    },

    async getInstance(req) {
      checkRequired("id", req.id);
      const row = await getInstance(svc.db, req.id);
      if (!row) throw notFound("instance", req.id);
      return { instance: instanceMessage(row) };
    },

    async listInstances(req) {
      const limit = pageSize(req.pageSize);
      const after = decodeIdToken("instances", req.pageToken);
      const page = await listInstances(svc.db, {
        limit,
        ...(after !== undefined ? { after } : {}),
        labels: req.labels,
      });
      return {
        instances: page.rows.map(instanceMessage),
        nextPageToken: encodeIdToken("instances", page.next),
      };
    },

    async updateInstance(req, ctx) {
      const inst = req.instance;
      if (!inst) throw invalid("instance", "is required");
      const id = checkRequired("instance.id", inst.id);
      const paths = maskPaths(req.updateMask, UPDATE_PATHS);
      const row = await mutate(svc, ctx, async (trx, audit, now) => {
        const current = await getInstance(trx, id);
        if (!current) throw notFound("instance", id);
        const patch: Partial<InstanceFields> = {};
        if (paths.has("display_name"))
          patch.displayName = checkText("instance.display_name", inst.displayName);
        if (paths.has("labels")) patch.labels = checkLabels("instance.labels", inst.labels);
        if (paths.has("disabled")) patch.disabled = inst.disabled;
        if (paths.has("tag")) patch.tag = checkText("instance.tag", inst.tag, 64);
        if (paths.has("capture_mode"))
          patch.captureMode = toCaptureMode("instance.capture_mode", inst.captureMode);
        const whole = paths.has("policy");
        const take = (sub: (typeof UPDATE_PATHS)[number]) => whole || paths.has(sub);
        // Fields outside the mask are ignored, so the input policy is read only when masked in.
        const input =
          take("policy.allowed_models") || take("policy.rate_limit") || take("policy.budgets")
            ? toPolicyJson("instance.policy", inst.policy)
            : current.policy;
        const policy = {
          allowedModels: take("policy.allowed_models") ? input.allowedModels : current.policy.allowedModels,
          rateLimit: take("policy.rate_limit") ? input.rateLimit : current.policy.rateLimit,
          budgets: take("policy.budgets") ? input.budgets : current.policy.budgets,
        };
        const policyChanged = limitsChanged(current.policy, policy);
        if (policyChanged) patch.policy = policy;
        const updated = await updateInstance(trx, id, patch, now);
        if (!updated) throw notFound("instance", id);
        const { policy: _p, ...rest } = patch;
        await audit("instance.update", `instances/${id}`, { paths: [...paths], ...rest });
        if (policyChanged) {
          await audit("limits.update", `instances/${id}`, { before: current.policy, after: policy });
        }
        return updated;
      });
      return { instance: instanceMessage(row) };
    },

    async deleteInstance(req, ctx) {
      checkRequired("id", req.id);
      await mutate(svc, ctx, async (trx, audit) => {
        if (!(await deleteInstance(trx, req.id))) throw notFound("instance", req.id);
        await audit("instance.delete", `instances/${req.id}`);
      });
      return {};
    },
  };
}
