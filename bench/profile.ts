// Summarises a V8 CPU profile (node --cpu-prof): self time per function and per area (a server
// folder, a package, Node internals), with bundle positions mapped back to the TypeScript sources
// through dist/keygate.js.map.
import { readFile } from "node:fs/promises";
import { SourceMap } from "node:module";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  name: string;
  selfMs: number;
  /** Share of the busy (non-idle) time. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  /** True when only the samples inside the load window were counted. */
  windowed: boolean;
  busyMs: number;
  idleMs: number;
  functions: (ProfileEntry & { location: string })[];
  areas: ProfileEntry[];
}

/** Relative to the repository when inside it. */
function shortPath(root: string, file: string): string {
  const rel = relative(root, file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

function asProfile(v: unknown): CpuProfile {
  const p = v as Partial<CpuProfile>;
  if (
    !Array.isArray(p.nodes) ||
    !Array.isArray(p.samples) ||
    !Array.isArray(p.timeDeltas) ||
    typeof p.startTime !== "number"
  ) {
    throw new Error("not a V8 CPU profile");
  }
  return p as CpuProfile;
}

async function loadSourceMap(bundle: string): Promise<SourceMap | undefined> {
  try {
    return new SourceMap(
      JSON.parse(await readFile(`${bundle}.map`, "utf8")) as ConstructorParameters<typeof SourceMap>[0],
    );
  } catch {
    return undefined;
  }
}

/** "server/src/facade/inference.ts:120", "undici/lib/core/util.js:30", "node:internal/streams/…". */
function locate(frame: CallFrame, root: string, maps: Map<string, SourceMap | undefined>): string {
  if (!frame.url) return "";
  if (!frame.url.startsWith("file://")) return `${frame.url}:${frame.lineNumber + 1}`;
  const file = fileURLToPath(frame.url);
  const map = maps.get(file);
  if (map) {
    const e = map.findEntry(frame.lineNumber, frame.columnNumber);
    if ("originalSource" in e && e.originalSource) {
      const src = e.originalSource.startsWith("file://")
        ? fileURLToPath(e.originalSource)
        : resolve(dirname(file), e.originalSource);
      return `${relative(root, src)}:${e.originalLine + 1}`;
    }
  }
  const rel = relative(root, file).replace(/^(.*\/)?node_modules\//, "");
  return `${rel}:${frame.lineNumber + 1}`;
}

/**
 * Native frames (writev, RegExp, …) have no source: name the nearest package or server code above
 * them, else the nearest Node internal.
 */
function nearestWithSource(
  node: ProfileNode,
  parents: Map<number, number>,
  byId: Map<number, ProfileNode>,
): ProfileNode | undefined {
  let internal: ProfileNode | undefined;
  for (let id = parents.get(node.id); id !== undefined; id = parents.get(id)) {
    const p = byId.get(id);
    if (p?.callFrame.url.startsWith("file://")) return p;
    if (p?.callFrame.url) internal ??= p;
  }
  return internal;
}

/** The area a location belongs to: a server folder, a package, or Node itself. */
function areaOf(name: string, location: string): string {
  if (!location) return name.startsWith("(") ? name : "(native code)";
  if (location.startsWith("via ")) return "(native code)";
  if (location.startsWith("node:")) return "node internals";
  if (location.startsWith("wasm:")) return "wasm (llhttp, PGlite)";
  const server = location.match(/^server\/src\/([^/:]+)/);
  if (server) return `server/src/${server[1]!.replace(/\.ts$/, "")}`;
  const pkg = location.match(/^(@[^/]+\/[^/]+|[^/]+)\//);
  return pkg ? pkg[1]! : location.replace(/:\d+$/, "");
}

function top<T extends { selfMs: number }>(
  entries: Iterable<T>,
  busyMs: number,
  n: number,
): (T & { pct: number })[] {
  return [...entries]
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, n)
    .map((e) => ({ ...e, pct: busyMs > 0 ? (100 * e.selfMs) / busyMs : 0 }));
}

/**
 * Microseconds on the monotonic clock V8 stamps profiles with; in Node that is uv_hrtime, the
 * clock behind process.hrtime, so another process on the same machine can mark a window in it.
 */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

export interface ProfileWindow {
  startUs: number;
  endUs: number;
}

/** Self time per sampled node, counting only samples inside `window` when it covers any. */
function selfTimes(
  profile: CpuProfile,
  window?: ProfileWindow,
): { selfUs: Map<number, number>; windowed: boolean } {
  const all = new Map<number, number>();
  const inWindow = new Map<number, number>();
  // Each sample's time is the gap to the next sample (the last one gets the average gap).
  const avg = profile.timeDeltas.reduce((a, b) => a + b, 0) / Math.max(1, profile.timeDeltas.length);
  let t = profile.startTime;
  profile.samples.forEach((id, i) => {
    t += profile.timeDeltas[i] ?? 0;
    const us = profile.timeDeltas[i + 1] ?? avg;
    all.set(id, (all.get(id) ?? 0) + us);
    if (window && t >= window.startUs && t <= window.endUs) inWindow.set(id, (inWindow.get(id) ?? 0) + us);
  });
  return inWindow.size > 0 ? { selfUs: inWindow, windowed: true } : { selfUs: all, windowed: false };
}

export async function summarizeProfile(
  file: string,
  root: string,
  window?: ProfileWindow,
  n = 15,
): Promise<ProfileSummary> {
  const profile = asProfile(JSON.parse(await readFile(file, "utf8")));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const { selfUs, windowed } = selfTimes(profile, window);
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);

  const maps = new Map<string, SourceMap | undefined>();
  for (const node of profile.nodes) {
    const url = node.callFrame.url;
    // Only our own bundles: packages ship maps of their own that point into their build trees.
    const path = url.startsWith("file://") ? fileURLToPath(url) : "";
    if (path.startsWith(join(root, "dist") + sep) && !maps.has(path))
      maps.set(path, await loadSourceMap(path));
  }

  let idleMs = 0;
  let busyMs = 0;
  const functions = new Map<string, { name: string; location: string; selfMs: number }>();
  const areas = new Map<string, { name: string; selfMs: number }>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const ms = us / 1000;
    const name = node.callFrame.functionName || "(anonymous)";
    if (name === "(idle)") {
      idleMs += ms;
      continue;
    }
    busyMs += ms;
    const caller =
      node.callFrame.url || name.startsWith("(") ? undefined : nearestWithSource(node, parents, byId);
    const location = caller
      ? `via ${caller.callFrame.functionName || "(anonymous)"} ${locate(caller.callFrame, root, maps)}`
      : locate(node.callFrame, root, maps);
    const fn = functions.get(`${name} ${location}`) ?? { name, location, selfMs: 0 };
    fn.selfMs += ms;
    functions.set(`${name} ${location}`, fn);
    const areaName = areaOf(name, location);
    const area = areas.get(areaName) ?? { name: areaName, selfMs: 0 };
    area.selfMs += ms;
    areas.set(areaName, area);
  }
  return {
    file: shortPath(root, file),
    windowed,
    busyMs,
    idleMs,
    functions: top(functions.values(), busyMs, n),
    areas: top(areas.values(), busyMs, n),
  };
}
