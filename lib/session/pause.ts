/**
 * `git paw pause`: detach clients and stop the dashboard/broker pane; the
 * agent panes keep running. `git paw start` resumes.
 * @module
 */
import { repoRoot } from "../adapters/git.ts";
import {
  detachClients,
  hasSession,
  killPane,
  listPanes,
} from "../adapters/tmux.ts";
import { effectiveStatus } from "../core/session.ts";
import { println } from "../output.ts";
import { findReceiptForRepo, writeReceipt } from "./receipt.ts";
import { acquireLock } from "./lock.ts";

/** Run `git paw pause`. */
export async function pauseCommand(): Promise<void> {
  const repo = await repoRoot();
  const receipt = await findReceiptForRepo(repo);
  if (!receipt) {
    println("No active session for this repo.");
    return;
  }
  const s = receipt.session_name;
  const eff = effectiveStatus(receipt.status, await hasSession(s));
  if (eff === "paused") {
    println(`Session '${s}' is already paused. Run 'git paw start' to resume.`);
    return;
  }
  if (eff === "stopped") {
    println(
      `Session '${s}' is not running; nothing to pause. Run 'git paw start' to recover it.`,
    );
    return;
  }
  await using _lock = await acquireLock(repo, { command: "pause" });
  await detachClients(s);
  const panes = await listPanes(s);
  for (const p of panes) if (p.role === "dashboard") await killPane(p.id);
  receipt.status = "paused";
  await writeReceipt(receipt);
  const n = panes.filter((p) => p.role !== "dashboard").length;
  println(
    `Session '${s}' paused. ${n} CLI pane(s) still running. Run 'git paw start' to resume.`,
  );
}
