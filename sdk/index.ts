// Entry point of the keygate Admin SDK: the generated messages plus a ready-made client.
export * from "./client.js";
export * from "./gen/keygate/v1/admin_service_pb.js";
export * from "./gen/keygate/v1/audit_pb.js";
export * from "./gen/keygate/v1/instance_pb.js";
export * from "./gen/keygate/v1/key_pb.js";
export * from "./gen/keygate/v1/policy_pb.js";
export * from "./gen/keygate/v1/provider_pb.js";
export * from "./gen/keygate/v1/routing_pb.js";
export * from "./gen/keygate/v1/usage_pb.js";
