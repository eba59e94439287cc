/**
 * AGENTS.md for agent worktrees (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"): render the managed block, write
 * it into the worktree's AGENTS.md (keeping the repo's own content), and keep
 * the result out of git:
 * - AGENTS.md tracked on the branch → `git update-index --skip-worktree` in
 *   that worktree's own index: `git status`, `git add -A` and `commit -a`
 *   ignore our edit, and a merge touching the file stops instead of
 *   overwriting it.
 * - untracked → `/AGENTS.md` in git-paw's block of
 *   `<git-common-dir>/info/exclude`, the only exclude file git reads for a
 *   linked worktree (removed when the last agent worktree is torn down).
 * Needs `--allow-read`, `--allow-write`, `--allow-run=git`.
 * @module
 */
import { join } from "node:path";
import { hasBlock, injectBlock, stripBlock } from "../core/agents_md.ts";
import { gitCommonDir, gitDir, isTracked } from "../adapters/git_layout.ts";
import { gitTry } from "../adapters/git_run.ts";
import { addSharedExcludes } from "./_exclude.ts";
import { readTextOrNull } from "../adapters/fs.ts";

/** File name, at the worktree top. */
export const AGENTS_MD = "AGENTS.md";

/** What goes into one agent's managed block. */
export type AgentsBlockInput = {
  /** Branch, verbatim. */
  branch: string;
  agentId: string;
  cli: string;
  /** Other agents' ids. */
  peers: string[];
  /** Broker on? (inbox/publish rules only then) */
  brokerOn: boolean;
  /** Supervisor session: someone else merges and verifies. */
  supervisor?: boolean;
  /** Spec prompt for this agent (`### Spec`). */
  specPrompt?: string | null;
  /** Files this agent owns (`### File Ownership`). */
  ownedFiles?: string[];
  /** Rendered coordination skill (broker on). */
  skill?: string | null;
};

/** The managed block body (without markers) for one agent. Pure. */
export function renderAgentsBlock(input: AgentsBlockInput): string {
  const out: string[] = [
    "## git-paw Session Assignment",
    "",
    `- **Branch:** \`${input.branch}\``,
    `- **CLI:** ${input.cli}`,
    `- **Agent id:** \`${input.agentId}\``,
  ];
  if (input.specPrompt && input.specPrompt.trim() !== "") {
    out.push("", "### Spec", "", input.specPrompt.trim());
  }
  if (input.ownedFiles && input.ownedFiles.length > 0) {
    out.push("", "### File Ownership", "");
    for (const f of input.ownedFiles) out.push(`- \`${f}\``);
  }
  if (input.skill && input.skill.trim() !== "") {
    out.push("", input.skill.trim());
  }
  out.push("", "## Inter-Agent Rules", "");
  const peers = input.peers.filter((p) => p !== input.agentId);
  out.push(
    peers.length
      ? `- Peers in this session: ${peers.map((p) => `\`${p}\``).join(", ")}.`
      : "- You are the only agent in this session.",
  );
  if (input.supervisor) {
    out.push(
      "- File ownership is exclusive: change only files assigned to you; for anything else, ask the owner with `agent.blocked` or ask the supervisor.",
    );
  } else {
    out.push(
      "- Before touching a file another agent has claimed, ask that agent first.",
    );
  }
  out.push(
    `- Commit on \`${input.branch}\` only, and never push: ${
      input.supervisor
        ? "the supervisor merges"
        : "merging is done outside your pane"
    }.`,
  );
  if (input.brokerOn) {
    out.push(
      "- Your status and commits are published automatically; check your inbox between steps.",
      "- To build on a peer's committed work, cherry-pick their commit instead of copying files.",
    );
  }
  out.push(
    "- Use names (files, functions, messages) exactly as your spec writes them.",
  );
  return out.join("\n");
}

const readOrNull = readTextOrNull;

/** How {@link writeWorktreeAgentsMd} hid the file. */
export type AgentsMdState = {
  mode: "skip-worktree" | "exclude" | "none";
  created: boolean;
  /** This call started hiding an untracked AGENTS.md of the main checkout. */
  hidesRepoFile?: boolean;
};

/**
 * Write `body` as the managed block of `<worktree>/AGENTS.md` (no git
 * involved). Base content: the worktree's own AGENTS.md, else the repo
 * root's (its git-paw block removed). Returns whether the file counts as
 * created by git-paw (kept true from `previous`).
 */
export async function writeAgentsMdFile(opts: {
  repo: string;
  worktreePath: string;
  body: string;
  previous?: AgentsMdState | null;
}): Promise<{ created: boolean }> {
  const file = join(opts.worktreePath, AGENTS_MD);
  const existing = await readOrNull(file);
  let base = existing;
  let created = opts.previous?.created ?? false;
  if (base === null) {
    created = true;
    const root = opts.repo === opts.worktreePath
      ? null
      : await readOrNull(join(opts.repo, AGENTS_MD));
    base = root === null ? "" : stripBlock(root);
  }
  const next = injectBlock(base, opts.body);
  if (next !== existing) await Deno.writeTextFile(file, next);
  return { created };
}

/**
 * True when the main checkout's AGENTS.md is untracked and not ignored, i.e.
 * `git status` lists it (so excluding `/AGENTS.md` repo-wide would hide it).
 * No git call when the file does not exist.
 */
export async function repoAgentsMdVisible(repo: string): Promise<boolean> {
  try {
    await Deno.lstat(join(repo, AGENTS_MD));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
  const r = await gitTry(repo, [
    "--literal-pathspecs",
    "ls-files",
    "--others",
    "--exclude-standard",
    "-z",
    "--",
    AGENTS_MD,
  ]);
  return r.code === 0 && r.stdout.split("\0").includes(AGENTS_MD);
}

/**
 * Write `body` as the managed block of `<worktree>/AGENTS.md` and hide the
 * file from git. Base content: the worktree's own AGENTS.md, else the repo
 * root's (its git-paw block removed). Idempotent.
 *
 * @param opts.previous state from an earlier call (keeps `created` true)
 */
async function writeWorktreeAgentsMd(opts: {
  repo: string;
  worktreePath: string;
  body: string;
  previous?: AgentsMdState | null;
}): Promise<AgentsMdState> {
  const { created } = await writeAgentsMdFile(opts);
  if (await isTracked(opts.worktreePath, AGENTS_MD)) {
    await setSkipWorktree(opts.worktreePath, AGENTS_MD, true);
    return { mode: "skip-worktree", created: false };
  }
  // The shared exclude also hides an untracked AGENTS.md in the main
  // checkout; tell the caller when that changes what the user sees.
  const hidesRepoFile = opts.repo !== opts.worktreePath &&
    await repoAgentsMdVisible(opts.repo);
  await addSharedExcludes(await gitCommonDir(opts.worktreePath), [
    `/${AGENTS_MD}`,
  ]);
  return { mode: "exclude", created, hidesRepoFile };
}

/**
 * Undo {@link writeWorktreeAgentsMd}: drop the block (and a file git-paw
 * created when nothing else is left in it) and clear skip-worktree. The
 * shared exclude line is removed separately, once no agent worktree is left.
 */
export async function restoreWorktreeAgentsMd(opts: {
  repo: string;
  worktreePath: string;
  state: AgentsMdState | null;
}): Promise<void> {
  const file = join(opts.worktreePath, AGENTS_MD);
  if (opts.state?.mode === "skip-worktree") {
    await setSkipWorktree(opts.worktreePath, AGENTS_MD, false);
  }
  const content = await readOrNull(file);
  if (content === null || !hasBlock(content)) return;
  const stripped = stripBlock(content);
  if (opts.state?.created && opts.repo !== opts.worktreePath) {
    const root = await readOrNull(join(opts.repo, AGENTS_MD));
    const rootBase = root === null ? "" : stripBlock(root);
    if (stripped === "" || stripped === rootBase) {
      await Deno.remove(file);
      return;
    }
  }
  await Deno.writeTextFile(file, stripped);
}

/**
 * Set or clear the skip-worktree bit of `path` (or of each of several
 * tracked paths, in one git call) in the worktree's index.
 */
export async function setSkipWorktree(
  worktree: string,
  path: string | string[],
  on: boolean,
): Promise<void> {
  const paths = typeof path === "string" ? [path] : path;
  if (paths.length === 0) return;
  await gitTry(worktree, [
    "update-index",
    on ? "--skip-worktree" : "--no-skip-worktree",
    "--",
    ...paths,
  ]);
}

/** Where the repo-root block's state is kept (main checkout's git dir). */
async function rootStateFile(repo: string): Promise<string> {
  return join(await gitDir(repo), "paw-root-agents-md");
}

/**
 * Write `body` as the managed block of the repo-root AGENTS.md (supervisor
 * sessions), hidden from git like an agent worktree's.
 */
export async function writeRepoAgentsBlock(
  repo: string,
  body: string,
): Promise<void> {
  const stateFile = await rootStateFile(repo);
  const prev = await readOrNull(stateFile);
  const state = await writeWorktreeAgentsMd({
    repo,
    worktreePath: repo,
    body,
    previous: prev ? JSON.parse(prev) as AgentsMdState : null,
  });
  await Deno.writeTextFile(stateFile, JSON.stringify(state) + "\n");
}

/**
 * Strip the git-paw block (plus one adjacent blank line) from the repo-root
 * AGENTS.md; a file that held nothing else and that git-paw created is
 * removed. No-op without a block.
 */
export async function stripRepoAgentsMd(repo: string): Promise<void> {
  const stateFile = await rootStateFile(repo);
  const prevText = await readOrNull(stateFile);
  const state = prevText ? JSON.parse(prevText) as AgentsMdState : null;
  if (state?.mode === "skip-worktree") {
    await setSkipWorktree(repo, AGENTS_MD, false);
  }
  const file = join(repo, AGENTS_MD);
  const content = await readOrNull(file);
  if (content !== null && hasBlock(content)) {
    const stripped = stripBlock(content);
    const tracked = await isTracked(repo, AGENTS_MD);
    if (stripped === "" && !tracked) await Deno.remove(file);
    else await Deno.writeTextFile(file, stripped);
  }
  if (prevText !== null) await Deno.remove(stateFile).catch(() => {});
}
