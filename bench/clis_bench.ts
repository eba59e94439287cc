/**
 * Real AI CLIs under `git paw start` against the same CLI alone, both
 * talking to the same mock model with the same seeded HOME (the test rig,
 * tests/_helpers/ai_cli_session.ts; CLIs from the project cache).
 *
 * The work is the same on both sides: the CLI starts with a first prompt,
 * sends its first model request, gets one shell tool call back, and runs
 * it unasked. Under git-paw the prompt is the boot block and the tool call
 * is `git paw publish status working` (pre-allowed by git-paw's worktree
 * files): the clock stops when the agent's own status is on the broker.
 * Alone, in a tmux pane of the same (trusted) repo, the prompt is short and
 * the tool call is `touch` (pre-allowed the CLI's own way): the clock stops
 * when the file exists. So the ratio charges git-paw with everything it
 * adds: `start` itself (worktree, files, tmux layout, broker in pane 0),
 * the pane guard, its hooks firing in the turn, the helper's start-up and
 * the publish — and nothing of the probe's own: the broker URL comes from
 * the session receipt, not from a `git paw status` process.
 * @module
 */
import { join } from "node:path";
import type { BenchResult } from "./run.ts";
import { median } from "./_util.ts";
import type { AiCli } from "../tests/_helpers/ai_clis.ts";
import { aiCliBin } from "../tests/_helpers/ai_clis.ts";
import {
  agentMark,
  type CliRig,
  openCliRig,
  shellCall,
} from "../tests/_helpers/ai_cli_session.ts";
import { writeClaudeWorktreeSettings } from "../tests/_helpers/ai_cli_claude.ts";
import type { Script } from "../tests/fixtures/mock_model/server.ts";
import { CLI_PROFILES, promptArgs } from "../lib/core/cli_profiles.ts";

const CLIS: AiCli[] = ["claude", "codex", "gemini"];
const ROUNDS = Number(Deno.env.get("GIT_PAW_BENCH_ROUNDS") ?? 3);
const LIMIT_MS = 120_000;

async function poll(what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + LIMIT_MS;
  while (!await fn()) {
    if (Date.now() > deadline) throw new Error(`bench: no ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function pawScript(cli: AiCli, ids: string[]): Script {
  return {
    steps: ids.map((id) => ({
      id: `boot-${id}`,
      when: "BOOT INSTRUCTIONS",
      context: agentMark(id),
      reply: {
        text: "Registering.",
        tools: [
          shellCall(cli, `git paw publish status working --message ${id}-up`),
        ],
      },
    })),
    fallback: { text: "OK" },
  };
}

/**
 * The broker URL from the session's receipt in the rig's data home: the
 * probe reads a file, where `rig.start` runs `git paw status --json` (a
 * whole git-paw process on the 2 cores while the CLI boots, which no user
 * runs then).
 */
async function brokerUrlOfReceipt(rig: CliRig): Promise<string> {
  const dir = join(rig.w.root, "data", "git-paw", "sessions");
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".json")) continue;
    const r = JSON.parse(await Deno.readTextFile(join(dir, e.name))) as {
      broker_port?: number;
      broker_bind?: string;
    };
    if (r.broker_port) {
      const bind = r.broker_bind && r.broker_bind !== "0.0.0.0"
        ? r.broker_bind
        : "127.0.0.1";
      return `http://${bind}:${r.broker_port}`;
    }
  }
  throw new Error(`bench: no session receipt with a broker in ${dir}`);
}

/** `git paw start` → every agent's own first status on the broker (ms). */
async function pawRound(cli: AiCli, ids: string[]): Promise<number> {
  await using rig = await openCliRig(cli, pawScript(cli, ids));
  const t0 = performance.now();
  const r = await rig.w.paw([
    "start",
    "--cli",
    cli,
    "--branches",
    ids.join(","),
  ]);
  if (r.code !== 0) throw new Error(`git paw start failed: ${r.stderr}`);
  const url = await brokerUrlOfReceipt(rig);
  await poll(`status from ${ids.join(",")} (${cli})`, async () => {
    const r = await fetch(`${url}/log?since=0`).catch(() => null);
    if (!r) return false;
    const j = await r.json() as
      | { entries?: Array<{ message: { payload?: { message?: string } } }> }
      | Array<{ message: { payload?: { message?: string } } }>;
    const all = Array.isArray(j) ? j : j.entries ?? [];
    return ids.every((id) =>
      all.some((e) => e.message.payload?.message === `${id}-up`)
    );
  });
  return performance.now() - t0;
}

/** Let the CLI run `touch` unasked in `dir`, the CLI's own way. */
async function allowTouch(cli: AiCli, dir: string): Promise<void> {
  if (cli === "claude") {
    await writeClaudeWorktreeSettings(dir, { allow: ["Bash(touch:*)"] });
  } else if (cli === "gemini") {
    const policy = join(dir, ".gemini", "bench-policy.toml");
    await Deno.mkdir(join(dir, ".gemini"), { recursive: true });
    await Deno.writeTextFile(
      policy,
      '[[rule]]\ntoolName = "run_shell_command"\ncommandPrefix = ["touch"]\n' +
        'decision = "allow"\npriority = 100\n',
    );
    await Deno.writeTextFile(
      join(dir, ".gemini", "settings.json"),
      JSON.stringify({ policyPaths: [policy] }) + "\n",
    );
  }
  // codex: `touch` in the workspace runs in its sandbox unasked.
}

/** The CLI alone in a tmux pane: launch → its tool call done (ms). */
async function aloneRound(cli: AiCli): Promise<number> {
  await using rig: CliRig = await openCliRig(cli, {
    steps: [{
      id: "alone",
      when: "BENCH-ALONE",
      reply: {
        text: "Touching.",
        tools: [shellCall(cli, "touch alone-done.txt")],
      },
    }],
    fallback: { text: "OK" },
  });
  const { w } = rig;
  await allowTouch(cli, w.repo);
  const p = promptArgs(CLI_PROFILES[cli]!, "BENCH-ALONE go");
  if (p.kind !== "argv") throw new Error(`${cli}: prompt is typed`);
  const done = join(w.repo, "alone-done.txt");
  const t0 = performance.now();
  const r = await w.tmux([
    "new-session",
    "-d",
    "-s",
    "alone",
    "-x",
    "200",
    "-y",
    "50",
    "-c",
    w.repo,
    await aiCliBin(cli),
    ...p.args,
  ]);
  if (r.code !== 0) throw new Error(`tmux: ${r.stderr}`);
  await poll(`${cli} alone running touch`, async () => {
    try {
      await Deno.stat(done);
      return true;
    } catch {
      return false;
    }
  }).catch(async (e) => {
    const s = await w.tmux(["capture-pane", "-p", "-t", "alone"]);
    throw new Error(`${(e as Error).message}\n${s.stdout}`);
  });
  return performance.now() - t0;
}

const failures: string[] = [];

/** One round, retried once: a CLI stuck on a loaded machine is noted. */
async function retried(what: string, f: () => Promise<number>) {
  for (let attempt = 1;; attempt++) {
    try {
      return await f();
    } catch (e) {
      failures.push(`${what}: ${(e as Error).message.split("\n")[0]}`);
      if (attempt >= 2) throw e;
    }
  }
}

/** Measure each CLI: alone, under git paw start with 1 and with 2 agents. */
export async function run(): Promise<BenchResult[]> {
  const rows: Array<Record<string, string | number>> = [];
  const only = Deno.env.get("GIT_PAW_BENCH_CLIS")?.split(",") as
    | AiCli[]
    | undefined;
  for (const cli of only ?? CLIS) {
    const alone: number[] = [], one: number[] = [], two: number[] = [];
    const pair: number[] = [];
    // Warm the caches (node modules, page cache).
    await retried(`${cli} warm-up`, () => aloneRound(cli));
    for (let i = 0; i < ROUNDS; i++) {
      const a = await retried(`${cli} alone`, () => aloneRound(cli));
      const p = await retried(`${cli} 1 agent`, () => pawRound(cli, ["a"]));
      alone.push(a);
      one.push(p);
      pair.push(p / a);
      two.push(
        await retried(`${cli} 2 agents`, () => pawRound(cli, ["a", "b"])),
      );
    }
    const m = median(alone);
    rows.push({
      cli,
      "alone (median ms)": m.toFixed(0),
      "git paw start, 1 agent (median ms)": median(one).toFixed(0),
      "ratio 1 agent": (median(one) / m).toFixed(2),
      "median of per-round ratios": median(pair).toFixed(2),
      "git paw start, 2 agents (median ms)": median(two).toFixed(0),
      "ratio 2 agents": (median(two) / m).toFixed(2),
    });
  }
  return [{
    title:
      "Real CLIs: `git paw start` to every agent's first own status vs the CLI alone",
    rows,
    notes: [
      `Median of ${ROUNDS} rounds each after one warm-up, alone and 1-agent rounds alternating. Both sides: the same seeded HOME, the same mock model, a tmux pane of their own; the CLI starts with a first prompt, makes its first model request and runs the one shell tool call it gets back, unasked. git-paw: \`git paw start --cli <cli> --branches a\` (wall time from spawning it, Deno start-up included) until agent \`a\`'s \`git paw publish status working\` is on the broker. Alone: \`<cli> <prompt>\` in a new tmux session in the same trusted repo until its \`touch\` has made the file. The 2-agent column starts \`--branches a,b\` and waits for both; its ratio is against one CLI alone, so on 2 cores it also shows two CLIs booting at once. Goal: ratio 1 agent ≤ 1.3.`,
      ...failures.map((f) => `Retried after a failed round: ${f}.`),
    ],
  }];
}
