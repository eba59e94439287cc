/**
 * Cost of git-paw's git hooks on `git commit`: plain commits vs commits in an
 * agent worktree (post-commit starts git-paw and publishes to a real broker),
 * with the broker down, and in the main checkout (hook present, no marker).
 * @module
 */
import { join } from "node:path";
import type { BenchResult } from "./run.ts";
import { setupAgentWorktree } from "../lib/coord/setup.ts";
import { defaultConfig } from "../lib/core/config.ts";
import {
  addWorktree,
  deadUrl,
  git,
  run as runCmd,
  SELF,
  tempBroker,
  tempRepo,
} from "../tests/coord/hooks_fixture.ts";
import { agentPlan } from "../lib/core/agent_plan.ts";

const N = 30;

function stats(ms: number[]): { median_ms: string; p95_ms: string } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { median_ms: at(0.5)!.toFixed(0), p95_ms: at(0.95)!.toFixed(0) };
}

async function commits(cwd: string, tag: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < N; i++) {
    await Deno.writeTextFile(join(cwd, `${tag}-${i}.txt`), `${i}\n`);
    await git(cwd, "add", "-A");
    const t0 = performance.now();
    const r = await runCmd("git", ["commit", "-q", "-m", `${tag} ${i}`], cwd);
    out.push(performance.now() - t0);
    if (r.code !== 0) throw new Error(`commit failed: ${r.stderr}`);
  }
  return out;
}

/** Measure commit latency with and without the hooks. */
export async function run(): Promise<BenchResult[]> {
  await using broker = await tempBroker();
  await using t = await tempRepo();
  const up = await addWorktree(t, "feat/up");
  const down = await addWorktree(t, "feat/down");
  const rows: Array<Record<string, string | number>> = [];
  const plain = await commits(up, "plain");
  rows.push({
    case: "no hooks (agent worktree before setup)",
    commits: N,
    ...stats(plain),
  });
  const setup = (wt: string, branch: string, url: string) =>
    setupAgentWorktree({
      repo: t.repo,
      project: "repo",
      agent: agentPlan({ branch: branch, worktree: wt, cli: "demo" }),
      brokerUrl: url,
      peers: [],
      config: defaultConfig(),
      hookSelf: SELF,
      warn: () => {},
    });
  await setup(up, "feat/up", broker.url);
  await setup(down, "feat/down", deadUrl());
  rows.push({
    case: "agent worktree, broker up",
    commits: N,
    ...stats(await commits(up, "up")),
  });
  rows.push({
    case: "agent worktree, broker down",
    commits: N,
    ...stats(await commits(down, "down")),
  });
  rows.push({
    case: "main checkout (hooks installed, no marker)",
    commits: N,
    ...stats(await commits(t.repo, "main")),
  });
  const published = (await broker.logSince(0)).length;
  return [{
    title: "git hooks: commit latency (ms)",
    rows,
    notes: [
      `Wall time of \`git commit\` (one new file each). The agent worktree's post-commit starts git-paw once (${
        SELF.slice(0, 2).join(" ")
      } …) and POSTs to a real broker; ${published} commits were published. pre-commit on the expected branch and everything in the main checkout stay in sh (no git-paw start-up).`,
    ],
  }];
}
