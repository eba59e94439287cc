/**
 * `git paw purge [--force] [--stale]`: remove a session for good — tmux
 * session, worktrees, git-paw-created branches, broker data, AGENTS.md block,
 * hooks and both receipt files. Worktrees with uncommitted work are refused
 * (listing the files) unless `--force`; a confirmation is asked unless
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
  dirtyFiles,
  removeWorktree,
  repoRoot,
} from "../adapters/git.ts";
import { hasSession, killSession } from "../adapters/tmux.ts";
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
import { removeSessionHooks, stripRepoAgentsBlock } from "../coord/setup.ts";
import { unmergedCount } from "../adapters/git.ts";

/** Flags of `git paw purge`. */
export type PurgeOptions = { force?: boolean; stale?: boolean };

/** Worktrees of `receipt` with uncommitted work: path → files. */
export async function dirtyWorktrees(
  receipt: Receipt,
): Promise<Array<{ path: string; files: string[] }>> {
  const out: Array<{ path: string; files: string[] }> = [];
  for (const w of receipt.worktrees) {
    if (!existsSync(w.worktree_path)) continue;
    let files: string[];
    try {
      files = await dirtyFiles(w.worktree_path);
    } catch {
      continue; // not a worktree any more
    }
    if (files.length) out.push({ path: w.worktree_path, files });
  }
  return out;
}

/** The refusal listing dirty worktrees and their files. */
export function dirtyError(
  what: string,
  dirty: Array<{ path: string; files: string[] }>,
): AppError {
  const list = dirty.map((d) =>
    `${d.path}: ${d.files.slice(0, 10).join(", ")}${
      d.files.length > 10 ? `, … ${d.files.length - 10} more` : ""
    }`
  ).join("; ");
  return new AppError(
    `Session error: cannot ${what}: uncommitted work in ${dirty.length} worktree(s) — ${list}. Commit or stash it, or pass --force to discard it.`,
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
export async function purgeSession(
  repo: string | null,
  receipt: Receipt,
  done: string,
): Promise<void> {
  const s = receipt.session_name;
  // From inside the session, killing it ends our own terminal: do it last.
  const inside = insideSession(s);
  if (inside) keepRunningOnHangup();
  else await killSession(s);
  const repoOk = repo !== null && existsSync(repo);
  for (const w of receipt.worktrees) {
    if (!repoOk) break;
    eprintln(`Removing worktree ${w.worktree_path}...`);
    const t0 = performance.now();
    try {
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
  }
  await removeReceipts(repoOk ? repo : null, s);
  println(done);
  if (inside) await killSession(s);
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
    await killSession(e.session);
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
