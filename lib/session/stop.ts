/**
 * `git paw stop`: end the tmux session (the broker closes with its pane),
 * strip the repo AGENTS.md block, mark the receipt stopped. Never deletes a
 * worktree, a branch or any state: `git paw start` recovers it.
 * @module
 */
import { hasSession, killSession } from "../adapters/tmux.ts";
import { println } from "../output.ts";
import { repoRoot } from "../adapters/git.ts";
import { findReceiptForRepo, writeReceipt } from "./receipt.ts";
import { acquireLock } from "./lock.ts";
import { keepRunningOnHangup, syncDiscovery } from "./common.ts";
import { stripRepoAgentsBlock } from "../coord/setup.ts";

/** Run `git paw stop`. */
export async function stopCommand(): Promise<void> {
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
  println("Session stopped. Worktrees and state preserved.");
  println("Run `git paw start` to recover.");
  // Last: when run from a pane of this session, this ends our own terminal.
  if (alive) {
    keepRunningOnHangup();
    await _lock.release();
    await killSession(receipt.session_name);
  }
}
