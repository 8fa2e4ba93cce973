// Profiles keygate under the 50-connection load: a separate keygate started with
// `node --cpu-prof --cpu-prof-dir=<results>/profiles`, stopped gracefully so V8 writes the profile,
// which is then summarised over the load window only (start-up and migrations excluded).
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { gatewaySpec, type BenchContext } from "../context.js";
import type { KeygateProc } from "../keygate-proc.js";
import { monotonicUs, summarizeProfile, type ProfileSummary } from "../profile.js";
import { keygateSut } from "../sut.js";
import { runWrk } from "../wrk.js";
import { THROUGHPUT_LOAD } from "./throughput.js";

export async function profileScenario(
  ctx: BenchContext,
  dir: string,
  start: (nodeArgs: string[]) => Promise<KeygateProc>,
): Promise<ProfileSummary> {
  await mkdir(dir, { recursive: true });
  const kg = await start(["--cpu-prof", `--cpu-prof-dir=${dir}`]);
  let window;
  try {
    const sut = keygateSut(kg, { databaseUrl: ctx.opts.databaseUrl, metrics: true });
    const spec = gatewaySpec({ ...ctx, sut }, await sut.identity("profile"), false);
    const load = { ...THROUGHPUT_LOAD, durationS: ctx.opts.durationS };
    await runWrk(ctx.root, spec, { ...load, durationS: Math.min(2, load.durationS) });
    ctx.log(`profile: ${load.durationS}s at ${load.connections} connections under --cpu-prof`);
    const startUs = monotonicUs();
    await runWrk(ctx.root, spec, load);
    window = { startUs, endUs: monotonicUs() };
  } finally {
    await kg.close();
  }
  // V8 names the file CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile.
  const file = (await readdir(dir)).find((f) => f.includes(`.${kg.pid}.`) && f.endsWith(".cpuprofile"));
  if (!file) throw new Error(`no CPU profile for keygate pid ${kg.pid} in ${dir}`);
  return summarizeProfile(join(dir, file), ctx.root, window);
}
