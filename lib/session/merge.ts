/**
 * `git paw merge [--dry-run] [--into BRANCH] [--only a,b]`: the merge queue.
 * The session's agent branches go into the target (default: the default
 * branch) one at a time, in dependency order (blocked-on relations from the
 * broker log, then commit order). Each merge is made without a checkout
 * (`git merge-tree --write-tree`, `git commit-tree`; a fast-forward when
 * the target is an ancestor) and, with a test command, tested in git-paw's
 * scratch worktree (`<common-dir>/paw-integration/merge`) before the target
 * moves. A branch that conflicts or fails is left out — the target stays at
 * its last green commit — and the queue goes on; the command then exits 1
 * naming each left-out branch and why, and tells those agents.
 *
 * The target moves without ever forcing: when no worktree has it checked
 * out, `git update-ref <ref> <new> <old>` (the old value guards against a
 * concurrent change); when a worktree has it checked out and clean, that
 * checkout follows with `git merge --ff-only`; when that checkout has
 * uncommitted changes, nothing moves and the user is told the merged commit.
 * Agents get `agent.advanced-main` after each merge. Nothing prompts.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { slugify, SUPERVISOR_ID } from "../core/slug.ts";
import type { LogEntry } from "../core/broker_types.ts";
import { parseMessage } from "../core/messages.ts";
import { integrationTestArgv } from "../core/integration.ts";
import {
  blockedEdges,
  type LeftOut,
  leftOutFeedback,
  leftOutLine,
  mergeOrder,
  type QueueItem,
} from "../core/merge_queue.ts";
import { failingLines } from "../core/integration.ts";
import type { Receipt } from "../core/session.ts";
import {
  branchExists,
  defaultBranch,
  dirtyFiles,
  worktreeList,
} from "../adapters/git.ts";
import { gitTry } from "../adapters/git_run.ts";
import {
  branchTips,
  checkoutScratch,
  commitTimes,
  commitTree,
  ensureScratchWorktree,
  isAncestor,
  mergeTrees,
  runTest,
} from "../adapters/git_merge.ts";
import { eprintln, println } from "../output.ts";
import { type BrokerClient, brokerClient } from "../broker/client.ts";
import { loadConfig } from "./config_store.ts";
import { receiptBrokerUrl } from "./common.ts";
import { brokerDataDir } from "./receipt.ts";
import { supervisorCredential } from "../coord/credentials.ts";
import { pickAgents, sessionOfRepo } from "./diff.ts";

/** Options of {@link mergeCommand}. */
export type MergeCommandOptions = {
  dryRun?: boolean;
  into?: string;
  only?: string[];
  cwd?: string;
};

/** What happened to one branch. */
export type MergeStep =
  | {
    agent: string;
    branch: string;
    outcome: "merged";
    commit: string;
    fastForward: boolean;
  }
  | { agent: string; branch: string; outcome: "already-merged" }
  | { agent: string; branch: string; outcome: "left-out"; why: LeftOut };

async function brokerOf(receipt: Receipt): Promise<BrokerClient | null> {
  const url = receiptBrokerUrl(receipt);
  if (!url) return null;
  // It speaks as the supervisor (advanced-main, the queue's feedback).
  const key = await supervisorCredential(
    brokerDataDir(receipt.session_name),
  ).catch(() => undefined);
  return brokerClient(url, {
    ...(receipt.broker_token ? { token: receipt.broker_token } : {}),
    ...(key ? { agentKey: key } : {}),
  });
}

/** The session's broker log (every entry), or `[]` when it is not running. */
async function brokerLog(b: BrokerClient | null): Promise<LogEntry[]> {
  if (!b) return [];
  const out: LogEntry[] = [];
  let since = 0;
  try {
    for (;;) {
      const page = await b.log({ since, limit: 1000 });
      for (const e of page.entries) {
        const m = parseMessage(e.message);
        if (typeof e.seq !== "number" || !m.ok) continue;
        since = Math.max(since, e.seq);
        out.push({
          seq: e.seq,
          timestamp_unix_secs: Number(e.timestamp_unix_secs) || 0,
          message: m.message,
        });
      }
      if (page.entries.length < 1000) return out;
    }
  } catch {
    return out; // not running: commit order only
  }
}

async function publish(b: BrokerClient | null, msg: unknown): Promise<void> {
  if (!b) return;
  try {
    await b.publish(msg, { timeoutMs: 3000 });
  } catch { /* not running: nobody to tell */ }
}

/** How the target moved (or why not). */
type Move =
  | { ok: true; how: "ref" | "checkout"; path?: string }
  | { ok: false; reason: string };

/**
 * Move `refs/heads/<target>` from `old` to `next` (a descendant): see the
 * module doc. Never forces.
 */
async function moveTarget(
  repo: string,
  target: string,
  old: string,
  next: string,
  message: string,
): Promise<Move> {
  const holder = (await worktreeList(repo)).find((w) => w.branch === target);
  if (!holder) {
    const r = await gitTry(repo, [
      "update-ref",
      "-m",
      message,
      `refs/heads/${target}`,
      next,
      old,
    ]);
    return r.code === 0
      ? { ok: true, how: "ref" }
      : { ok: false, reason: `git update-ref refused: ${r.stderr.trim()}` };
  }
  const dirty = await dirtyFiles(holder.path);
  if (dirty.length > 0) {
    return {
      ok: false,
      reason:
        `${target} is checked out in ${holder.path} with uncommitted changes (${
          dirty.slice(0, 5).join(", ")
        }${dirty.length > 5 ? ", …" : ""})`,
    };
  }
  const head = (await gitTry(holder.path, ["rev-parse", "HEAD"], {
    isolated: true,
  })).stdout.trim();
  if (head !== old) {
    return {
      ok: false,
      reason: `${target} moved meanwhile (now ${head.slice(0, 12)})`,
    };
  }
  const r = await gitTry(holder.path, ["merge", "--ff-only", "-q", next], {
    isolated: true,
  });
  return r.code === 0 ? { ok: true, how: "checkout", path: holder.path } : {
    ok: false,
    reason: `git merge --ff-only in ${holder.path} refused: ${r.stderr.trim()}`,
  };
}

/** Run `git paw merge`. */
export async function mergeCommand(opts: MergeCommandOptions): Promise<void> {
  const { repo, receipt } = await sessionOfRepo(opts.cwd);
  const config = await loadConfig(repo);
  const testArgv = integrationTestArgv(config);
  const target = opts.into ?? await defaultBranch(repo);
  if (!await branchExists(repo, target)) {
    throw new AppError(
      `Merge error: target branch '${target}' does not exist`,
      "merge",
      { exitCode: 2 },
    );
  }
  let agents = receipt.worktrees;
  if (opts.only?.length) {
    agents = opts.only.flatMap((a) => pickAgents(receipt, a));
  }
  agents = agents.filter((w) => w.branch !== target);
  const tips = await branchTips(repo, [target, ...agents.map((w) => w.branch)]);
  const start = tips.get(target)!;
  const present = agents.filter((w) => tips.has(w.branch));
  const times = await commitTimes(
    repo,
    present.map((w) => tips.get(w.branch)!),
  );
  const items: QueueItem[] = present.map((w) => {
    const commit = tips.get(w.branch)!;
    return {
      agent: slugify(w.branch),
      branch: w.branch,
      commit,
      time: times.get(commit) ?? 0,
    };
  });
  const broker = await brokerOf(receipt);
  const order = mergeOrder(items, blockedEdges(await brokerLog(broker)));
  println(
    `${
      opts.dryRun ? "Dry run: " : ""
    }merge queue into ${target} (${order.length} branches: ${
      order.map((i) => i.branch).join(", ") || "none"
    })${testArgv ? `, test \`${testArgv.join(" ")}\`` : ", no test command"}`,
  );

  const steps: MergeStep[] = [];
  let current = start;
  let moved = 0;
  let stuck: string | null = null;
  const notes: string[] = [];
  for (const item of order) {
    const base = { agent: item.agent, branch: item.branch };
    if (await isAncestor(repo, item.commit, current)) {
      steps.push({ ...base, outcome: "already-merged" });
      println(`  = ${item.branch}: already in ${target}`);
      continue;
    }
    let candidate: string;
    const ff = await isAncestor(repo, current, item.commit);
    if (ff) candidate = item.commit;
    else {
      const m = await mergeTrees(repo, current, item.commit);
      if (!m.ok) {
        const why: LeftOut = { kind: "conflict", files: m.files };
        steps.push({ ...base, outcome: "left-out", why });
        println(`  ✗ ${leftOutLine(item.branch, why)}`);
        continue;
      }
      candidate = await commitTree(repo, {
        tree: m.tree,
        parents: [current, item.commit],
        message:
          `Merge branch '${item.branch}' into ${target}\n\nMerged by git paw merge.`,
      });
    }
    if (testArgv) {
      const scratch = await ensureScratchWorktree(repo, "merge", current);
      await checkoutScratch(scratch, candidate);
      const r = await runTest(scratch, testArgv, {
        timeoutMs: config.integration.timeout_seconds * 1000,
      });
      if (r.code !== 0) {
        const why: LeftOut = {
          kind: "test",
          command: testArgv,
          code: r.code,
          output: r.output,
        };
        steps.push({ ...base, outcome: "left-out", why });
        println(`  ✗ ${leftOutLine(item.branch, why)}`);
        for (const l of failingLines(r.output)) println(`      ${l}`);
        continue;
      }
    }
    if (!opts.dryRun && stuck === null) {
      const mv = await moveTarget(
        repo,
        target,
        current,
        candidate,
        `git paw merge: ${item.branch}`,
      );
      if (!mv.ok) {
        stuck = mv.reason;
      } else {
        moved++;
        await publish(broker, {
          type: "agent.advanced-main",
          from: SUPERVISOR_ID,
          merged_branch: item.branch,
          new_main_sha: candidate,
          base: target,
          merged_at: new Date().toISOString(),
          summary: `git paw merge: ${item.branch} merged into ${target}${
            ff ? " (fast-forward)" : ""
          }`,
        });
      }
    }
    current = candidate;
    steps.push({
      ...base,
      outcome: "merged",
      commit: candidate,
      fastForward: ff,
    });
    println(
      `  ✓ ${item.branch}: ${
        opts.dryRun
          ? "would merge"
          : stuck !== null
          ? `passes (${target} not moved)`
          : "merged"
      }${ff ? " (fast-forward)" : ""} → ${candidate.slice(0, 12)}`,
    );
  }

  const leftOut = steps.filter((s) => s.outcome === "left-out") as Extract<
    MergeStep,
    { outcome: "left-out" }
  >[];
  if (!opts.dryRun) {
    for (const s of leftOut) {
      await publish(broker, {
        type: "agent.feedback",
        agent_id: s.agent,
        payload: {
          from: "merge-queue",
          errors: [leftOutFeedback(s, target, s.why)],
        },
      });
    }
  }
  if (opts.dryRun) {
    println(
      `${target} would go ${start.slice(0, 12)} → ${
        current.slice(0, 12)
      }; nothing changed.`,
    );
  } else if (stuck !== null) {
    notes.push(
      `${target} was not moved: ${stuck}. The merged result is ${current}; commit or stash, then run \`git merge --ff-only ${current}\` there.`,
    );
  } else if (current !== start) {
    const holder = (await worktreeList(repo)).find((w) => w.branch === target);
    println(
      `${target}: ${start.slice(0, 12)} → ${
        current.slice(0, 12)
      } (${moved} merge${moved === 1 ? "" : "s"}); ${
        holder
          ? `the checkout in ${holder.path} moved with it`
          : `only the branch moved (no checkout has ${target})`
      }.`,
    );
  } else {
    println(`${target} unchanged.`);
  }
  for (const n of notes) eprintln(n);
  if (leftOut.length > 0 || stuck !== null) {
    const parts = leftOut.map((s) => leftOutLine(s.branch, s.why));
    if (stuck !== null) parts.push(`${target} not moved: ${stuck}`);
    throw new AppError(
      `Merge error: ${leftOut.length} branch${
        leftOut.length === 1 ? "" : "es"
      } left out${parts.length ? `: ${parts.join("; ")}` : ""}`,
      "merge_left_out",
    );
  }
}
