/**
 * `git paw diff [AGENT] [--stat] [--json] [--worktree]`: what each agent's
 * branch changes against its merge base with the default branch. By
 * default the committed branch (what a merge would take); `--worktree`
 * compares the agent's worktree files instead, so uncommitted edits to
 * tracked files show too (untracked files are listed by name).
 * @module
 */
import { AppError } from "../core/errors.ts";
import { slugify } from "../core/slug.ts";
import type { Receipt, ReceiptWorktree } from "../core/session.ts";
import { defaultBranch, repoRoot } from "../adapters/git.ts";
import { agentDiff } from "../adapters/git_diff.ts";
import { printJson, println } from "../output.ts";
import { findReceiptForRepo } from "./receipt.ts";

/** Options of {@link diffCommand}. */
export type DiffCommandOptions = {
  agent?: string;
  stat?: boolean;
  json?: boolean;
  worktree?: boolean;
  /** Repo directory (default: the current one). */
  cwd?: string;
};

/** The session of the repo at `cwd` and its repo root. */
export async function sessionOfRepo(
  cwd?: string,
): Promise<{ repo: string; receipt: Receipt }> {
  const repo = await repoRoot(cwd);
  const receipt = await findReceiptForRepo(repo);
  if (!receipt) {
    throw new AppError(
      "Session error: no session for this repo. Run `git paw start` first.",
      "no_session",
    );
  }
  return { repo, receipt };
}

/**
 * The session's agents, or the one named by `agent` (branch name or its
 * agent id).
 * @throws {AppError} `unknown_agent` naming the known agents.
 */
export function pickAgents(
  receipt: Receipt,
  agent?: string,
): ReceiptWorktree[] {
  if (agent === undefined) return receipt.worktrees;
  const hit = receipt.worktrees.filter((w) =>
    w.branch === agent || slugify(w.branch) === slugify(agent)
  );
  if (hit.length === 0) {
    throw new AppError(
      `Session error: no agent '${agent}' in session '${receipt.session_name}' (agents: ${
        receipt.worktrees.map((w) => slugify(w.branch)).join(", ") || "none"
      })`,
      "unknown_agent",
      { exitCode: 2 },
    );
  }
  return hit;
}

/** Run `git paw diff`. */
export async function diffCommand(opts: DiffCommandOptions): Promise<void> {
  const { repo, receipt } = await sessionOfRepo(opts.cwd);
  const agents = pickAgents(receipt, opts.agent);
  const base = await defaultBranch(repo);
  const diffs = await Promise.all(
    agents.map((w) =>
      agentDiff(repo, {
        agent: slugify(w.branch),
        branch: w.branch,
        worktree: w.worktree_path,
      }, {
        base,
        stat: opts.stat ?? false,
        worktree: opts.worktree ?? false,
      })
    ),
  );
  if (opts.json) {
    printJson({
      session: receipt.session_name,
      base,
      agents: diffs.map((d) => {
        const { text: _text, ...rest } = d;
        return opts.stat
          ? { ...rest, files: rest.files.map(({ hunks: _h, ...f }) => f) }
          : rest;
      }),
    });
    return;
  }
  for (const d of diffs) {
    const s = d.summary;
    println(
      `== ${d.agent} (${d.branch}) vs ${d.base}${
        d.merge_base ? ` @ ${d.merge_base.slice(0, 12)}` : ""
      }${
        d.worktree_changes ? ", worktree" : ""
      }: ${s.files} files, +${s.additions} -${s.deletions}`,
    );
    if (!d.head) println("  (branch missing)");
    else if (!d.merge_base) println(`  (no merge base with ${d.base})`);
    const body = d.text.replace(/\n$/, "");
    if (body) println(body);
    for (const u of d.untracked) println(`?? ${u}`);
  }
}
