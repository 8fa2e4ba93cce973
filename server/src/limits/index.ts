// Rate limits and budgets for the hot path. admit() before dispatch, settle() after the response.
export type {
  AdmitInput,
  Admission,
  BudgetLimit,
  BudgetStatus,
  Header,
  LimitScope,
  LimitStatus,
  Limiter,
  RateStatus,
  SeedSpend,
  SettleInput,
  StatusDimension,
  Ticket,
} from "./types.js";
export { createMemoryLimiter, type MemoryLimiterOptions } from "./memory.js";
export { createRedisLimiter, type RedisLimiterOptions } from "./redis.js";
export {
  instanceScopeId,
  principalScopeId,
  scopesForRequest,
  type InstanceLimits,
  type Principal,
} from "./scopes.js";
export { budgetWindow, formatResetDuration, retryAfterSeconds } from "./windows.js";
