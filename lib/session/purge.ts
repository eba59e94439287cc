/**
 * `git paw purge [--force] [--stale]`: remove a session for good — tmux
 * session, worktrees, git-paw-created branches, broker data, AGENTS.md block,
 * hooks and both receipt files. Worktrees with uncommitted work or ignored
 * files of the user's (a `.env`) are refused (listing the files) unless
 * `--force`; a confirmation is asked unless
 * `--force` (without a terminal, `--force` is required).
 * @module
 */
import { existsSync } from "node:fs";
import { confirm } from "@inquirer/prompts";
import { AppError, CancelledError, UsageError } from "../core/errors.ts";
import { displayStatus, type Receipt } from "../core/session.ts";
import {
  defaultBranch,
  deleteBranch,
  removeWorktree,
  repoRoot,
  worktreeFiles,
} from "../adapters/git.ts";
import { hasSession, killSession } from "../adapters/tmux.ts";
import { endSessionProcesses } from "./end_processes.ts";

/** Kill session `s` of `repo` and every process its panes started. */
async function endSession(s: string, repo: string): Promise<void> {
  await endSessionProcesses({ session: s, repo }, () => killSession(s));
}
import { eprintln, println, stdinIsTty } from "../output.ts";
import {
  allReceipts,
  brokerDataDir,
  CorruptReceiptError,
  findReceiptForRepo,
  removeReceipts,
} from "./receipt.ts";
import { acquireLock } from "./lock.ts";
import { insideSession, keepRunningOnHangup } from "./common.ts";
import {
  releaseOutsideState,
  removeSessionHooks,
  stripRepoAgentsBlock,
  userIgnoredFiles,
} from "../coord/setup.ts";
import { unmergedCount } from "../adapters/git.ts";
import { releasePorts } from "./ports.ts";
import { removeScratchWorktrees } from "../adapters/git_merge.ts";

/** Flags of `git paw purge`. */
export type PurgeOptions = { force?: boolean; stale?: boolean };

/**
 * What removing a worktree would lose: uncommitted files, and ignored files
 * that are the user's (a `.env`; git-paw's own files are not counted).
 */
export type WorktreeDirt = { path: string; files: string[]; ignored: string[] };

/**
 * What removing the worktree at `path` would lose, or null when nothing
 * (or when it is gone or no worktree any more).
 */
export async function worktreeDirt(path: string): Promise<WorktreeDirt | null> {
  if (!existsSync(path)) return null;
  let files: string[];
  let ignored: string[];
  try {
    const found = await worktreeFiles(path);
    files = found.changed;
    ignored = await userIgnoredFiles(path, found.ignored);
  } catch {
    return null; // not a worktree any more
  }
  return files.length || ignored.length ? { path, files, ignored } : null;
}

/** Worktrees of `receipt` whose removal would lose something. */
async function dirtyWorktrees(
  receipt: Receipt,
): Promise<WorktreeDirt[]> {
  const out: WorktreeDirt[] = [];
  for (const w of receipt.worktrees) {
    const d = await worktreeDirt(w.worktree_path);
    if (d) out.push(d);
  }
  return out;
}

/** The refusal listing what each worktree would lose. */
export function dirtyError(what: string, dirty: WorktreeDirt[]): AppError {
  const anyIgnored = dirty.some((d) => d.ignored.length > 0);
  const anyFiles = dirty.some((d) => d.files.length > 0);
  const list = dirty.map((d) => {
    const all = [...d.files, ...d.ignored.map((f) => `${f} (ignored)`)];
    return `${d.path}: ${all.slice(0, 10).join(", ")}${
      all.length > 10 ? `, … ${all.length - 10} more` : ""
    }`;
  }).join("; ");
  const kind = anyFiles && anyIgnored
    ? "uncommitted work and ignored files"
    : anyIgnored
    ? "ignored files"
    : "uncommitted work";
  const advice = anyIgnored
    ? "Commit or stash the work and move the ignored files out of the worktree, or pass --force to delete them."
    : "Commit or stash it, or pass --force to discard it.";
  return new AppError(
    `Session error: cannot ${what}: ${kind} in ${dirty.length} worktree(s) — ${list}. ${advice}`,
    "dirty_worktree",
  );
}

async function confirmOrFail(question: string, force?: boolean) {
  if (force) return;
  if (!stdinIsTty()) {
    throw new UsageError(
      "Purge needs confirmation and stdin is not a terminal; pass --force to purge without asking.",
    );
  }
  const ok = await confirm({ message: question, default: false });
  if (!ok) {
    println("Purge cancelled.");
    throw new CancelledError("Purge cancelled.");
  }
}

/** Tear a session down completely (the caller checked dirt and consent). */
async function purgeSession(
  repo: string | null,
  receipt: Receipt,
  done: string,
): Promise<void> {
  const s = receipt.session_name;
  // From inside the session, killing it ends our own terminal: do it last.
  const inside = insideSession(s);
  if (inside) keepRunningOnHangup();
  else await endSession(s, receipt.repo_path);
  const repoOk = repo !== null && existsSync(repo);
  for (const w of receipt.worktrees) {
    if (!repoOk) break;
    eprintln(`Removing worktree ${w.worktree_path}...`);
    const t0 = performance.now();
    try {
      await releaseOutsideState(w.worktree_path);
      await removeWorktree(repo!, w.worktree_path, { force: true });
      if (w.branch_created) await deleteBranch(repo!, w.branch);
      eprintln(`  ...done (${((performance.now() - t0) / 1000).toFixed(1)}s)`);
    } catch (e) {
      eprintln(`warning: ${(e as Error).message}`);
    }
  }
  await Deno.remove(brokerDataDir(s), { recursive: true }).catch(() => {});
  if (receipt.broker_log_path) {
    await Deno.remove(receipt.broker_log_path).catch(() => {});
  }
  if (repoOk) {
    await stripRepoAgentsBlock(repo!).catch((e) =>
      eprintln(`warning: ${(e as Error).message}`)
    );
    await removeSessionHooks(repo!).catch((e) =>
      eprintln(`warning: ${(e as Error).message}`)
    );
    // The integration lane's and the merge queue's scratch worktrees.
    await removeScratchWorktrees(repo!).catch((e) =>
      eprintln(`warning: ${(e as Error).message}`)
    );
  }
  await removeReceipts(repoOk ? repo : null, s);
  await releasePorts({ session: s });
  println(done);
  if (inside) await endSession(s, receipt.repo_path);
}

/** Run `git paw purge`. */
export async function purgeCommand(opts: PurgeOptions): Promise<void> {
  if (opts.stale) return await purgeStale(opts);
  const repo = await repoRoot();
  let receipt: Receipt | null;
  try {
    receipt = await findReceiptForRepo(repo);
  } catch (e) {
    if (!(e instanceof CorruptReceiptError)) throw e;
    // Unreadable receipt: drop the files and the tmux session of that name.
    await confirmOrFail(
      `The receipt ${e.path} is corrupt; its worktrees cannot be listed and stay on disk. Remove the receipt and its tmux session?`,
      opts.force,
    );
    await using _lock = await acquireLock(repo, { command: "purge" });
    await endSession(e.session, repo);
    await removeReceipts(repo, e.session);
    await Deno.remove(brokerDataDir(e.session), { recursive: true }).catch(
      () => {},
    );
    println(
      `Purged session '${e.session}' (corrupt receipt). Check \`git worktree list\` for worktrees to remove by hand.`,
    );
    return;
  }
  if (!receipt) {
    println("No session to purge for this repo.");
    return;
  }
  const dirty = await dirtyWorktrees(receipt);
  if (dirty.length && !opts.force) throw dirtyError("purge", dirty);
  const base = await defaultBranch(repo);
  const unmerged: string[] = [];
  for (const w of receipt.worktrees) {
    if (!w.branch_created) continue;
    const n = await unmergedCount(repo, w.branch, base);
    if (n > 0) unmerged.push(`  ${w.branch}: ${n} commit(s) not in ${base}`);
  }
  if (unmerged.length) {
    eprintln(`Warning: ${unmerged.length} branch(es) have unmerged commits:`);
    for (const l of unmerged) eprintln(l);
    eprintln("Purging is irreversible — those commits will be lost.");
  }
  await confirmOrFail(
    "This will remove the tmux session, all worktrees, and session state. Continue?",
    opts.force,
  );
  await using _lock = await acquireLock(repo, { command: "purge" });
  await purgeSession(
    repo,
    receipt,
    `Purged session '${receipt.session_name}'.`,
  );
}

/** Machine-wide: purge every stale session (active receipt, tmux gone). */
async function purgeStale(opts: PurgeOptions): Promise<void> {
  const { receipts } = await allReceipts();
  const stale: Receipt[] = [];
  for (const r of receipts) {
    const live = await hasSession(r.session_name);
    if (live === "indeterminate") continue;
    if (displayStatus(r.status, live) === "stale" || !existsSync(r.repo_path)) {
      stale.push(r);
    }
  }
  if (stale.length === 0) {
    println("No stale sessions to purge.");
    return;
  }
  await confirmOrFail(
    `Purge ${stale.length} stale session(s) (${
      stale.map((r) => r.session_name).join(", ")
    })? Their worktrees and session state will be removed.`,
    opts.force,
  );
  let refused = 0;
  for (const r of stale) {
    const dirty = await dirtyWorktrees(r);
    if (dirty.length && !opts.force) {
      eprintln(
        `warning: ${dirtyError(`purge '${r.session_name}'`, dirty).message}`,
      );
      refused++;
      continue;
    }
    const repo = existsSync(r.repo_path) ? r.repo_path : null;
    const done = `Purged stale session '${r.session_name}'.`;
    if (repo) {
      await using _lock = await acquireLock(repo, { command: "purge --stale" });
      await purgeSession(repo, r, done);
    } else {
      await purgeSession(null, r, done);
    }
  }
  if (refused) {
    throw new AppError(
      `${refused} stale session(s) kept because of uncommitted work; commit it or pass --force.`,
      "dirty_worktree",
    );
  }
}
