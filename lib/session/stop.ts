/**
 * `git paw stop`: end the tmux session (the broker closes with its pane)
 * and every process its panes started,
 * strip the repo AGENTS.md block, mark the receipt stopped. Never deletes a
 * worktree, a branch or any state: `git paw start` recovers it.
 * @module
 */
import { hasSession, killSession } from "../adapters/tmux.ts";
import { println as printOut } from "../output.ts";
import { repoRoot } from "../adapters/git.ts";
import { findReceiptForRepo, writeReceipt } from "./receipt.ts";
import { acquireLock } from "./lock.ts";
import { keepRunningOnHangup, syncDiscovery } from "./common.ts";
import { stripRepoAgentsBlock } from "../coord/setup.ts";
import { endSessionProcesses } from "./end_processes.ts";
import { removePaneEnvs } from "./pane_env.ts";

/** Run `git paw stop` (`print`: where its lines go, default stdout). */
export async function stopCommand(
  opts: { print?: (line: string) => void } = {},
): Promise<void> {
  const println = opts.print ?? printOut;
  const repo = await repoRoot();
  const receipt = await findReceiptForRepo(repo);
  if (!receipt) {
    println("No session for this repo.");
    return;
  }
  await using _lock = await acquireLock(repo, { command: "stop" });
  const alive = await hasSession(receipt.session_name) === "alive";
  await syncDiscovery(receipt);
  await stripRepoAgentsBlock(repo);
  receipt.status = "stopped";
  await writeReceipt(receipt);
  // The panes' env files hold secrets; `start` writes them again.
  await removePaneEnvs(receipt.session_name);
  println("Session stopped. Worktrees and state preserved.");
  println("Run `git paw start` to recover.");
  // Last: when run from a pane of this session, this ends our own terminal.
  if (alive) {
    keepRunningOnHangup();
    await _lock.release();
  }
  // Also what ignores the hang-up (and daemons a pane's CLI left behind).
  await endSessionProcesses(
    { session: receipt.session_name, repo: receipt.repo_path },
    () => alive ? killSession(receipt.session_name) : Promise.resolve(),
  );
}
