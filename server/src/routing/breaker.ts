// A circuit breaker per provider credential, per replica. It opens after `failureThreshold`
// failures within `windowMs`, refuses traffic for `cooldownMs`, then lets exactly one request
// through as a half-open probe: success closes it, failure opens it again.

export type BreakerStateName = "closed" | "open" | "half_open";

export interface BreakerView {
  state: BreakerStateName;
  recentFailures: number;
  openedAt?: number;
  retryAt?: number;
}

export interface Breakers {
  /** Whether a request may go to this provider now (claims the half-open probe slot if due). */
  allow(providerId: string, now?: number): boolean;
  success(providerId: string): void;
  failure(providerId: string, now?: number): void;
  view(providerId: string, now?: number): BreakerView;
  all(now?: number): { provider: string; view: BreakerView }[];
}

interface State {
  failures: number[];
  openedAt?: number;
  probing: boolean;
}

export function createBreakers(cfg: {
  failureThreshold: number;
  windowMs: number;
  cooldownMs: number;
}): Breakers {
  const states = new Map<string, State>();
  const get = (id: string): State => {
    let s = states.get(id);
    if (!s) {
      s = { failures: [], probing: false };
      states.set(id, s);
    }
    return s;
  };

  function stateOf(s: State, now: number): BreakerStateName {
    if (s.openedAt === undefined) return "closed";
    return now - s.openedAt >= cfg.cooldownMs ? "half_open" : "open";
  }

  function view(id: string, now = Date.now()): BreakerView {
    const s = states.get(id);
    if (!s) return { state: "closed", recentFailures: 0 };
    const recent = s.failures.filter((t) => now - t < cfg.windowMs).length;
    const state = stateOf(s, now);
    return {
      state,
      recentFailures: recent,
      ...(s.openedAt !== undefined ? { openedAt: s.openedAt, retryAt: s.openedAt + cfg.cooldownMs } : {}),
    };
  }

  return {
    allow(id, now = Date.now()) {
      const s = states.get(id);
      if (!s || s.openedAt === undefined) return true;
      if (stateOf(s, now) === "open") return false;
      // Half-open: one probe at a time.
      if (s.probing) return false;
      s.probing = true;
      return true;
    },
    success(id) {
      const s = states.get(id);
      if (!s) return;
      s.failures = [];
      s.openedAt = undefined;
      s.probing = false;
    },
    failure(id, now = Date.now()) {
      const s = get(id);
      if (s.openedAt !== undefined) {
        // A failed probe (or a straggler): start a new cool-down.
        s.openedAt = now;
        s.probing = false;
        return;
      }
      s.failures = s.failures.filter((t) => now - t < cfg.windowMs);
      s.failures.push(now);
      if (s.failures.length >= cfg.failureThreshold) {
        s.openedAt = now;
        s.probing = false;
      }
    },
    view,
    all(now = Date.now()) {
      return [...states.keys()].map((provider) => ({ provider, view: view(provider, now) }));
    },
  };
}
