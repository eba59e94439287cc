/**
 * One agent branch's changes against its merge base with a base branch, as
 * `git paw diff` and the web page's review panel show them: the committed
 * branch, or (`worktree`) the agent's worktree files, uncommitted edits to
 * tracked files included (untracked files listed by name).
 * Needs `--allow-run=git`.
 * @module
 */
import { type DiffFile, diffSummary, parseUnifiedDiff } from "../core/diff.ts";
import { gitText, gitTry } from "./git_run.ts";

/** One agent's diff. */
export type AgentDiff = {
  agent: string;
  branch: string;
  worktree: string;
  base: string;
  /** The merge base of the branch and the default branch (null: none). */
  merge_base: string | null;
  head: string | null;
  /** Compared against the worktree's files (`--worktree`). */
  worktree_changes: boolean;
  summary: { files: number; additions: number; deletions: number };
  files: DiffFile[];
  /** Untracked files of the worktree (`--worktree` only). */
  untracked: string[];
  /** The raw `git diff` (or `--stat`) text. */
  text: string;
};

const DIFF_FLAGS = ["--no-color", "--no-ext-diff", "--find-renames"];

/** Compute one agent's diff against `base`. */
export async function agentDiff(
  repo: string,
  w: { agent: string; branch: string; worktree: string },
  opts: { base: string; stat?: boolean; worktree?: boolean },
): Promise<AgentDiff> {
  const head = (await gitTry(repo, [
    "rev-parse",
    "--verify",
    "--quiet",
    `refs/heads/${w.branch}^{commit}`,
  ])).stdout.trim() || null;
  const mbR = head
    ? await gitTry(repo, ["merge-base", opts.base, head])
    : { code: 1, stdout: "" };
  const mb = mbR.code === 0 ? mbR.stdout.trim() : null;
  const out: AgentDiff = {
    agent: w.agent,
    branch: w.branch,
    worktree: w.worktree,
    base: opts.base,
    merge_base: mb,
    head,
    worktree_changes: opts.worktree === true,
    summary: { files: 0, additions: 0, deletions: 0 },
    files: [],
    untracked: [],
    text: "",
  };
  if (!head || !mb) return out;
  const where = opts.worktree ? w.worktree : repo;
  const range = opts.worktree ? [mb] : [mb, head];
  const patch = await gitText(where, ["diff", ...DIFF_FLAGS, ...range, "--"], {
    isolated: true,
  });
  out.files = parseUnifiedDiff(patch);
  out.summary = diffSummary(out.files);
  out.text = opts.stat
    ? await gitText(where, ["diff", ...DIFF_FLAGS, "--stat", ...range, "--"], {
      isolated: true,
    })
    : patch;
  if (opts.worktree) {
    out.untracked = (await gitText(w.worktree, [
      "ls-files",
      "--others",
      "--exclude-standard",
      "-z",
    ], { isolated: true })).split("\0").filter((f) => f !== "");
  }
  return out;
}
