/**
 * `git paw status [--json]` (docs/REFERENCE.md, "Other commands").
 * @module
 */
import { repoRoot } from "../adapters/git.ts";
import { hasSession } from "../adapters/tmux.ts";
import { displayStatus, statusJson } from "../core/session.ts";
import { printJson, println } from "../output.ts";
import { findReceiptForRepo } from "./receipt.ts";
import { receiptBrokerUrl } from "./common.ts";
import { formatPorts } from "../core/ports.ts";
import { sessionHeal } from "./heal.ts";

const ICON = { active: "🟢", paused: "🔵", stale: "🟡", stopped: "🔴" };

/** Run `git paw status`. */
export async function statusCommand(opts: { json?: boolean }): Promise<void> {
  const repo = await repoRoot();
  const receipt = await findReceiptForRepo(repo);
  const live = receipt ? await hasSession(receipt.session_name) : "stale";
  const heal = receipt && live === "alive"
    ? (await sessionHeal(receipt.session_name))?.heal
    : undefined;
  if (opts.json) {
    printJson(statusJson(receipt, live, heal));
    return;
  }
  if (!receipt) {
    println("No session for this repo.");
    return;
  }
  const st = displayStatus(receipt.status, live);
  println(`Session: ${receipt.session_name}`);
  println(`Status:  ${ICON[st]} ${st}`);
  if (st === "paused") println("  ↳ run 'git paw start' to resume");
  if (st === "stale") {
    println("  ↳ tmux session is gone; run 'git paw start' to recover it");
  }
  if (st === "stopped") println("  ↳ run 'git paw start' to recover it");
  println(`Tmux:    ${live === "alive" ? "running" : "not running"}`);
  const url = receiptBrokerUrl(receipt);
  if (url) {
    let state = "not responding";
    if (st === "paused") state = "paused — run 'git paw start' to resume";
    else {
      const { probeBroker } = await import("../broker/probe.ts");
      const probe = await probeBroker(url, receipt.session_name, {
        token: receipt.broker_token,
        repo: receipt.repo_path,
      });
      if (probe === "ours") {
        state = "running";
      }
      if (heal?.stopped) state += ` — ${heal.reason}; run 'git paw start'`;
      else if (heal?.last_death && heal.restarts > 0) {
        state +=
          ` — restarted ${heal.restarts}× (last death: ${heal.last_death})`;
      }
    }
    println(`Broker:  ${url} (${state})`);
    if (receipt.broker_token) {
      println(
        `Web:     ${url}/?token=${encodeURIComponent(receipt.broker_token)}`,
      );
    }
  } else {
    println("Broker:  off");
  }
  if (receipt.mode === "supervisor" && receipt.supervisor) {
    println(`  supervisor → ${receipt.supervisor.cli} (${receipt.repo_path})`);
  }
  for (const w of receipt.worktrees) {
    println(
      `  ${w.branch} → ${w.cli} (${w.worktree_path})${
        w.ports ? ` ports ${formatPorts(w.ports)}` : ""
      }`,
    );
  }
}
