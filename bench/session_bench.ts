/**
 * `git paw start` with 8 agents against the floor: the same `git worktree
 * add` and tmux `new-session`/`split-window` commands (same pane argv)
 * issued directly one after the other, measured in the same run on a temp
 * repo and an isolated tmux server. The pane CLI is a custom `sleep` so the
 * agents themselves cost nothing; both sides run it through the same
 * `__agent-pane` guard. Wall time of `git paw start` includes Deno start-up.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./run.ts";

const MAIN = fileURLToPath(new URL("../main.ts", import.meta.url));
const CONFIG = fileURLToPath(new URL("../deno.json", import.meta.url));
const SELF = [
  Deno.execPath(),
  "run",
  "-A",
  "--quiet",
  "--config",
  CONFIG,
  MAIN,
];
const N = 8;
const ROUNDS = 11;

type Env = Record<string, string>;

async function sh(cmd: string, args: string[], cwd: string, env: Env) {
  const o = await new Deno.Command(cmd, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (o.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")}: ${new TextDecoder().decode(o.stderr)}`,
    );
  }
}

async function world(root: string): Promise<{ repo: string; env: Env }> {
  const base = Deno.env.toObject();
  delete base.TMUX;
  const env: Env = {
    ...base,
    TMUX_TMPDIR: root,
    XDG_CONFIG_HOME: join(root, "config"),
    XDG_DATA_HOME: join(root, "data"),
    GIT_AUTHOR_NAME: "b",
    GIT_AUTHOR_EMAIL: "b@b.invalid",
    GIT_COMMITTER_NAME: "b",
    GIT_COMMITTER_EMAIL: "b@b.invalid",
  };
  const repo = join(root, "proj");
  await Deno.mkdir(repo, { recursive: true });
  await Deno.mkdir(join(root, "config", "git-paw"), { recursive: true });
  await Deno.writeTextFile(
    join(root, "config", "git-paw", "config.toml"),
    `[clis.idle]\ncommand = "sleep 600"\n`,
  );
  await sh("git", ["init", "-q", "-b", "main"], repo, env);
  await Deno.writeTextFile(join(repo, "README.md"), "bench\n");
  await sh("git", ["add", "README.md"], repo, env);
  await sh("git", ["commit", "-q", "-m", "init"], repo, env);
  return { repo, env };
}

async function reset(root: string, repo: string, env: Env) {
  await sh("tmux", ["kill-server"], root, env).catch(() => {});
  await Deno.remove(join(root, "data"), { recursive: true }).catch(() => {});
  await Deno.remove(join(repo, ".git-paw"), { recursive: true }).catch(
    () => {},
  );
  for (let i = 0; i < N; i++) {
    await sh(
      "git",
      ["worktree", "remove", "--force", join(root, `proj-b${i}`)],
      repo,
      env,
    )
      .catch(() => {});
    await sh("git", ["branch", "-D", `b${i}`], repo, env).catch(() => {});
  }
}

async function timeStart(
  repo: string,
  env: Env,
  broker: boolean,
): Promise<number> {
  const branches = Array.from({ length: N }, (_, i) => `b${i}`).join(",");
  const t0 = performance.now();
  await sh(
    Deno.execPath(),
    [
      "run",
      "-A",
      "--quiet",
      "--config",
      CONFIG,
      MAIN,
      "start",
      ...(broker ? [] : ["--no-broker"]),
      "--cli",
      "idle",
      "--branches",
      branches,
    ],
    repo,
    env,
  );
  return performance.now() - t0;
}

async function timeFloor(
  root: string,
  repo: string,
  env: Env,
  broker: boolean,
): Promise<number> {
  const t0 = performance.now();
  const paths: string[] = [];
  for (let i = 0; i < N; i++) {
    const p = join(root, `proj-b${i}`);
    paths.push(p);
    await sh("git", ["worktree", "add", "-q", "-b", `b${i}`, p], repo, env);
  }
  const pane = (p: string) => [
    ...SELF,
    "__agent-pane",
    "--cli",
    "idle",
    "--cwd",
    p,
    "--",
    "/usr/bin/sleep",
    "600",
  ];
  const first = broker ? repo : paths[0]!;
  const firstArgv = broker ? ["sleep", "600"] : pane(paths[0]!);
  await sh(
    "tmux",
    [
      "new-session",
      "-d",
      "-s",
      "floor",
      "-x",
      "480",
      "-y",
      "140",
      "-c",
      first,
      "--",
      ...firstArgv,
    ],
    root,
    env,
  );
  for (const p of broker ? paths : paths.slice(1)) {
    await sh("tmux", ["select-layout", "-t", "=floor:", "tiled"], root, env);
    await sh(
      "tmux",
      ["split-window", "-t", "=floor:", "-c", p, "--", ...pane(p)],
      root,
      env,
    );
  }
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Run the benchmark. */
export async function run(): Promise<BenchResult[]> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "pawbench" }),
  );
  const rows: Array<Record<string, string | number>> = [];
  try {
    const { repo, env } = await world(root);
    for (const broker of [false, true]) {
      const starts: number[] = [];
      const floors: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        await reset(root, repo, env);
        floors.push(await timeFloor(root, repo, env, broker));
        await reset(root, repo, env);
        starts.push(await timeStart(repo, env, broker));
      }
      await reset(root, repo, env);
      const s = median(starts), f = median(floors);
      // Each round times the floor and start back to back: the median of
      // the per-round ratios is robust to the machine's speed drifting.
      const paired = median(starts.map((x, i) => x / floors[i]!));
      rows.push({
        case: `${N} agents${
          broker ? " + dashboard/broker pane" : ", --no-broker"
        }`,
        "git paw start (median ms)": Math.round(s),
        "floor (median ms)": Math.round(f),
        "ratio of medians": (s / f).toFixed(2),
        "median of per-round ratios": paired.toFixed(2),
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
  return [{
    title: "Session start: `git paw start` vs direct git + tmux commands",
    rows,
    notes: [
      `Median of ${ROUNDS} rounds each, alternating floor and start. Floor = ${N} sequential \`git worktree add -b\` + \`tmux new-session\` + \`select-layout\`/\`split-window\` per extra pane, same pane argv; it waits for nothing. \`git paw start\` wall time includes Deno start-up and module loading (plain start argv is read without commander), config, branch and CLI validation, the session lock, the port check, pane 0 (launched in its own tmux call while the worktrees are made), the safe worktree creation (reuse and rebase checks, 4 at a time), AGENTS.md/hooks/marker setup (without the broker while the agent panes open; with it before, as hooks run git), the agent panes, titles/options and the final layout in one tmux call (with the broker they open while pane 0 binds its port), receipt and discovery file (each pane's guard holds its CLI until the receipt lists it; with the broker the receipt is written once pane 0 holds the port and the panes are open). Goal: ratio ≤ 1.3 (the paired ratio is the steadier one on a noisy machine).`,
    ],
  }];
}
