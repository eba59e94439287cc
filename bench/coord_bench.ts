/**
 * Coordination benchmarks (`deno task bench coord`):
 * 1. edit → `agent.status` latency through a real broker with the watcher
 *    plugin, over real git worktrees (median and p95 over 60 edits, measured
 *    by subscribing to the broker in-process);
 * 2. CPU time of an idle broker subprocess watching 8 worktrees for 60 s
 *    (utime+stime from `/proc/<pid>/stat`), next to a bare idle Deno process.
 *
 * Run as `deno run -A bench/coord_bench.ts idle-broker <root>` it is the idle
 * broker subprocess itself.
 * @module
 */
import { join } from "node:path";
import type { BenchResult } from "./run.ts";
import { clockTicks, cpuTicks } from "./_util.ts";
import { startBroker } from "../lib/broker/server.ts";
import { coordinationPlugins } from "../lib/coord/plugins.ts";
import { defaultConfig } from "../lib/core/config.ts";

const EDITS = 60;
const IDLE_SECONDS = Number(Deno.env.get("COORD_BENCH_IDLE_SECONDS") ?? 60);
const WORKTREES = 8;

const GIT_ENV = {
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};

async function git(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_ENV,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
}

/** A repo with `n` linked worktrees and some files in each. */
async function makeRepo(root: string, n: number) {
  const repo = join(root, "proj");
  await Deno.mkdir(join(repo, "src"), { recursive: true });
  for (let i = 0; i < 200; i++) {
    await Deno.writeTextFile(
      join(repo, "src", `m${i}.ts`),
      `export const v${i} = ${i};\n`,
    );
  }
  await Deno.writeTextFile(join(repo, "README.md"), "bench\n");
  await git(repo, "init", "-q", "-b", "main");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "init");
  const seed = [];
  for (let i = 0; i < n; i++) {
    const path = join(root, `proj-w${i}`);
    await git(repo, "worktree", "add", "-q", "-b", `feat/w${i}`, path);
    seed.push({ agent_id: `feat-w${i}`, worktree_path: path, cli: null });
  }
  return { repo, seed };
}

function pct(sorted: number[], p: number): number {
  const i = Math.min(
    sorted.length - 1,
    Math.ceil((p / 100) * sorted.length) - 1,
  );
  return sorted[Math.max(0, i)]!;
}

async function latency(): Promise<BenchResult> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "paw-bench-" }),
  );
  try {
    const { repo, seed } = await makeRepo(root, WORKTREES);
    const broker = await startBroker({
      port: 0,
      dataDir: join(root, "data"),
      session: "bench",
      quiet: true,
      seed,
      plugins: coordinationPlugins({
        repo,
        session: "bench",
        config: defaultConfig(),
      }),
    });
    const target = seed[0]!;
    const file = join(target.worktree_path, "src", "m7.ts");
    let waiter: ((t: number) => void) | null = null;
    const unsub = broker.subscribe((ev) => {
      if (
        ev.kind === "entry" && ev.entry.message.type === "agent.status" &&
        ev.entry.message.agent_id === target.agent_id
      ) {
        waiter?.(performance.now());
      }
    });
    await new Promise((r) => setTimeout(r, 300)); // initial baselines
    const samples: number[] = [];
    try {
      for (let i = 0; i < EDITS; i++) {
        // Alternate dirty/clean so every edit changes the modified set.
        const content = i % 2 === 0
          ? `export const v7 = ${i + 1000};\n`
          : "export const v7 = 7;\n";
        const seen = new Promise<number>((resolve, reject) => {
          const t = setTimeout(
            () => reject(new Error(`edit ${i}: no status in 5 s`)),
            5000,
          );
          waiter = (at) => {
            clearTimeout(t);
            resolve(at);
          };
        });
        const t0 = performance.now();
        await Deno.writeTextFile(file, content);
        samples.push((await seen) - t0);
        waiter = null;
        await new Promise((r) => setTimeout(r, 60));
      }
    } finally {
      unsub();
      await broker.close();
    }
    samples.sort((a, b) => a - b);
    const median = pct(samples, 50);
    const p95 = pct(samples, 95);
    return {
      title: "Watcher: edit → agent.status latency",
      rows: [{
        edits: samples.length,
        worktrees_watched: WORKTREES,
        "min ms": samples[0]!.toFixed(1),
        "median ms": median.toFixed(1),
        "p95 ms": p95.toFixed(1),
        "max ms": samples.at(-1)!.toFixed(1),
      }],
      notes: [
        "From the file write returning to the broker emitting the watcher's `agent.status` (in-process subscriber): Deno.watchFs → 25 ms batch window → `git --no-optional-locks status --porcelain -z -uall` → publish (durable). Every edit flips the modified set (dirty/clean) so each produces a status.",
        `Goal p95 ≤ 100 ms: ${p95 <= 100 ? "met" : "NOT met"}.`,
      ],
    };
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

async function readLine(stream: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stream.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.trim();
}

async function idleCpu(): Promise<BenchResult> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "paw-bench-idle-" }),
  );
  const self = new URL(import.meta.url).pathname;
  const config = new URL("../deno.json", import.meta.url).pathname;
  try {
    await makeRepo(root, WORKTREES);
    const spawnBroker = (mode: string) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "--config",
          config,
          self,
          "idle-broker",
          root,
          mode,
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
    const broker = spawnBroker("plugins");
    const plain = spawnBroker("plain");
    const bare = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        "await new Promise(() => setInterval(() => {}, 1 << 30)); ",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    try {
      for (const p of [broker, plain]) {
        const ready = await readLine(p.stdout);
        if (ready !== "ready") throw new Error(`idle broker said: ${ready}`);
      }
      await new Promise((r) => setTimeout(r, 2000)); // let startup work settle
      const hz = await clockTicks();
      const b0 = cpuTicks(broker.pid);
      const d0 = cpuTicks(bare.pid);
      const p0 = cpuTicks(plain.pid);
      await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
      const brokerMs = ((cpuTicks(broker.pid) - b0) / hz) * 1000;
      const bareMs = ((cpuTicks(bare.pid) - d0) / hz) * 1000;
      const plainMs = ((cpuTicks(plain.pid) - p0) / hz) * 1000;
      return {
        title: "Idle broker CPU (8 watched worktrees)",
        rows: [
          {
            process: "broker + watcher + conflict detector",
            "idle seconds": IDLE_SECONDS,
            "CPU ms": brokerMs.toFixed(0),
            "% of one core": ((brokerMs / (IDLE_SECONDS * 1000)) * 100).toFixed(
              3,
            ),
          },
          {
            process: "same broker without coordination plugins",
            "idle seconds": IDLE_SECONDS,
            "CPU ms": plainMs.toFixed(0),
            "% of one core": ((plainMs / (IDLE_SECONDS * 1000)) * 100).toFixed(
              3,
            ),
          },
          {
            process: "bare `deno eval` (baseline)",
            "idle seconds": IDLE_SECONDS,
            "CPU ms": bareMs.toFixed(0),
            "% of one core": ((bareMs / (IDLE_SECONDS * 1000)) * 100).toFixed(
              3,
            ),
          },
        ],
        notes: [
          `utime+stime deltas from /proc/<pid>/stat (${hz} ticks/s, so ±${
            (1000 / hz).toFixed(0)
          } ms resolution), measured after a 2 s settle; the three processes idle side by side.`,
          "The coordination plugins set no timers and run nothing while no file changes (no polling); the difference between the first two rows is their idle cost (within the tick resolution). The broker core's own periodic fsync/log-flush timers account for the second row.",
        ],
      };
    } finally {
      for (const p of [broker, plain]) {
        await p.stdin.close().catch(() => {});
        const st = await p.status;
        if (!st.success && st.signal === null) {
          console.error(`idle broker exited with ${st.code}`);
        }
        await p.stdout.cancel().catch(() => {});
      }
      bare.kill("SIGTERM");
      await bare.status;
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}

/** Bench entry point (see bench/run.ts). */
export async function run(): Promise<BenchResult[]> {
  return [await latency(), await idleCpu()];
}

async function idleBroker(root: string, mode: string): Promise<void> {
  const seed = [];
  for (let i = 0; i < WORKTREES; i++) {
    seed.push({
      agent_id: `feat-w${i}`,
      worktree_path: join(root, `proj-w${i}`),
      cli: null,
    });
  }
  const broker = await startBroker({
    port: 0,
    dataDir: join(root, `data-${mode}`),
    session: `bench-idle-${mode}`,
    quiet: true,
    seed,
    plugins: mode === "plugins"
      ? coordinationPlugins({
        repo: join(root, "proj"),
        session: "bench-idle",
        config: defaultConfig(),
      })
      : [],
  });
  await Deno.stdout.write(new TextEncoder().encode("ready\n"));
  // Until the parent closes stdin.
  for await (const _ of Deno.stdin.readable) { /* discard */ }
  await broker.close();
}

if (import.meta.main && Deno.args[0] === "idle-broker") {
  await idleBroker(Deno.args[1]!, Deno.args[2] ?? "plugins");
}
