/**
 * Integration lane benchmark (`deno task bench integration`): the union
 * check of 8 live agent branches after one commit (publish of the
 * committed artifact → the lane's check finished, through a real broker
 * with the lane plugin, test command run in the scratch worktree) divided
 * by the floor it cannot beat: one `git merge-tree --write-tree` of two
 * branches plus one run of the test command. Goal ≤ 2.
 * @module
 */
import { join } from "node:path";
import type { BenchResult } from "./run.ts";
import { median } from "./_util.ts";
import { trace } from "../lib/trace.ts";
import { startBroker } from "../lib/broker/server.ts";
import { IntegrationLane } from "../lib/coord/integration_plugin.ts";
import {
  checkoutScratch,
  ensureScratchWorktree,
  mergeTrees,
  runTest,
} from "../lib/adapters/git_merge.ts";

const BRANCHES = 8;
const ROUNDS = 25;
const TEST = ["sh", "-c", "./check.sh"];

const GIT_ENV = {
  GIT_AUTHOR_NAME: "Bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "Bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};

async function git(cwd: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: GIT_ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(
      `git ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout).trim();
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.95) - 1)]!;
}

const ms = (n: number) => Math.round(n * 10) / 10;

/** A repo of 100 files and a test script that reads them all. */
async function makeRepo(root: string) {
  const repo = join(root, "proj");
  await Deno.mkdir(join(repo, "src"), { recursive: true });
  for (let i = 0; i < 100; i++) {
    await Deno.writeTextFile(join(repo, "src", `m${i}.txt`), `v${i}\n`);
  }
  await Deno.writeTextFile(
    join(repo, "check.sh"),
    "#!/bin/sh\ncat src/*.txt > /dev/null && echo ok\n",
  );
  await Deno.chmod(join(repo, "check.sh"), 0o755);
  await git(repo, "init", "-q", "-b", "main");
  await git(repo, "add", "-A");
  await git(repo, "commit", "-qm", "init");
  const worktrees: string[] = [];
  for (let i = 0; i < BRANCHES; i++) {
    const p = join(root, `wt${i}`);
    await git(repo, "worktree", "add", "-q", "-b", `agent-${i}`, p);
    await Deno.writeTextFile(join(p, `own${i}.txt`), "0\n");
    await git(p, "add", "-A");
    await git(p, "commit", "-qm", `agent ${i} starts`);
    worktrees.push(p);
  }
  return { repo, worktrees };
}

/** Run the benchmark. */
export async function run(): Promise<BenchResult[]> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "paw-bench-int-" }),
  );
  try {
    const { repo, worktrees } = await makeRepo(root);

    // The floor: one merge-tree of two branches + one test run, measured
    // in every round next to the check (the machine's load changes).
    const scratch = await ensureScratchWorktree(repo, "bench", "HEAD");
    await checkoutScratch(scratch, "HEAD");
    const mt: number[] = [];
    const tr: number[] = [];
    const floorOnce = async (i: number) => {
      let t = performance.now();
      const m = await mergeTrees(repo, "agent-0", `agent-${1 + (i % 7)}`);
      mt.push(performance.now() - t);
      if (!m.ok) throw new Error("bench branches conflict");
      t = performance.now();
      const r = await runTest(scratch, TEST);
      tr.push(performance.now() - t);
      if (r.code !== 0) throw new Error(`test failed: ${r.output}`);
      return mt.at(-1)! + tr.at(-1)!;
    };
    const ratios: number[] = [];

    // The lane: a check after one commit of one agent.
    const broker = await startBroker({
      port: 0,
      dataDir: join(root, "broker"),
      session: "bench",
      quiet: true,
      seed: worktrees.map((p, i) => ({
        agent_id: `agent-${i}`,
        worktree_path: p,
        cli: "demo",
      })),
      republishWorkingTtlSeconds: 60,
    });
    let endedAt = 0;
    const lane = new IntegrationLane(broker, {
      repo,
      testArgv: TEST,
      timeoutMs: 60_000,
      log: () => {},
      // When each check ended (its final status), not when the publish
      // call returned: the broker answers a publish once the entry is on
      // disk, which can be after the lane is done.
      onStatus: (st) => {
        if (st.state !== "running") endedAt = performance.now();
      },
    });
    await lane.start();
    const done = async (n: number) => {
      while (lane.completed < n || lane.busy) {
        await new Promise((ok) => setTimeout(ok, 1));
      }
    };
    const publish = async (agent: string) => {
      const r = await broker.publish({
        type: "agent.artifact",
        agent_id: agent,
        payload: { status: "committed", exports: [], modified_files: [] },
      });
      if (!r.ok) throw new Error("publish failed");
    };
    const checks: number[] = [];
    try {
      await publish("agent-0"); // warm: first union from scratch
      await done(1);
      for (let i = 0; i < ROUNDS; i++) {
        const k = i % BRANCHES;
        const wt = worktrees[k]!;
        await Deno.writeTextFile(join(wt, `own${k}.txt`), `${i + 1}\n`);
        await git(wt, "commit", "-qam", `round ${i}`);
        const floor = await floorOnce(i);
        const t = performance.now();
        trace("bench: publish");
        await publish(`agent-${k}`);
        await done(i + 2);
        trace("bench: done");
        checks.push(endedAt - t);
        await lane.settled(); // its background work ends before the floor
        ratios.push(checks.at(-1)! / floor);
        if (lane.status.state !== "green") {
          throw new Error(`lane not green: ${JSON.stringify(lane.status)}`);
        }
      }
    } finally {
      await lane.close();
      await broker.close();
    }
    const ratio = median(ratios);
    return [{
      title: "Integration lane: union check of 8 branches after one commit",
      rows: [
        {
          measure: "git merge-tree --write-tree (2 branches)",
          "median ms": ms(median(mt)),
          "p95 ms": ms(p95(mt)),
        },
        {
          measure: "test command run (scratch worktree)",
          "median ms": ms(median(tr)),
          "p95 ms": ms(p95(tr)),
        },
        {
          measure: "lane check after one commit (publish → check done)",
          "median ms": ms(median(checks)),
          "p95 ms": ms(p95(checks)),
        },
      ],
      notes: [
        `${ROUNDS} rounds; each round one agent (of ${BRANCHES}) commits and publishes \`agent.artifact\` committed. The check reads the tips (loose ref files), merges the moved branch onto the previous union (one merge-tree, next to a merge-base --is-ancestor), updates the scratch worktree from the tree it held (read-tree -u -m, two trees) and runs \`${
          TEST.join(" ")
        }\` (cat of 100 files); the union's commit-tree runs beside the test, the scratch's clean -fdx after it. Timed from the publish call to the check's final status. The floor (one merge-tree of two branches + one run of the same test in a scratch worktree) is measured in the same round, right before.`,
        `Ratio (median over rounds of check ÷ (merge-tree + test run) measured in the same round): ${
          ratio.toFixed(2)
        }. Goal ≤ 2: ${ratio <= 2 ? "met" : "NOT met"}.`,
      ],
    }];
  } finally {
    await Deno.remove(root, { recursive: true }).catch(() => {});
  }
}
