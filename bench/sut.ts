// The system under test: a keygate the harness started, or any gateway given with --target. The
// scenarios only see this shape, so a peer gateway runs exactly the same measurements.
import { randomBytes } from "node:crypto";
import { createAccounting, type Accounting } from "./accounting.js";
import type { KeygateProc } from "./keygate-proc.js";

export interface Identity {
  /** Headers that authenticate a request through the gateway. */
  headers: Record<string, string>;
  /** The keygate instance the requests are recorded under. */
  instanceId?: string;
}

export interface SystemUnderTest {
  /** "keygate" or "target". */
  label: string;
  /** Base URL the inference path is appended to. */
  url: string;
  /** Process whose RSS is reported, when known. */
  pid?: number;
  /** A fresh identity per measured run, so each run's usage records can be counted apart. */
  identity(scenario: string): Promise<Identity>;
  /** Absent for a --target: its records cannot be read. */
  accounting?: Accounting;
}

export function keygateSut(kg: KeygateProc, o: { databaseUrl?: string; metrics: boolean }): SystemUnderTest {
  return {
    label: "keygate",
    url: kg.url,
    pid: kg.pid,
    accounting: createAccounting(kg.url, kg.admin, { ...o, replicas: kg.workers }),
    async identity(scenario) {
      const instanceId = `bench-${scenario}-${randomBytes(4).toString("hex")}`;
      await kg.admin.createInstance({ instanceId, instance: { displayName: `bench ${scenario}` } });
      const { secret } = await kg.admin.createKey({ instanceId, displayName: "bench" });
      return { headers: { authorization: `Bearer ${secret}` }, instanceId };
    },
  };
}

export function targetSut(url: string, headers: Record<string, string>, pid?: number): SystemUnderTest {
  return {
    label: "target",
    url,
    ...(pid ? { pid } : {}),
    identity: () => Promise.resolve({ headers }),
  };
}
