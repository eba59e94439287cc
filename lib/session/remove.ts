/**
 * `git paw remove <branch> [--force|--keep-worktree]`: take one agent out of
 * the session — its pane, and (unless `--keep-worktree`) its worktree. A
 * worktree with uncommitted work, or with ignored files of the user's (a
 * `.env`; git-paw's own files do not count), is refused with the file list
 * unless `--force`; a git-paw-created branch with commits not on the default branch
 * is kept unless `--force`.
 * @module
 */
import { endSessionProcesses } from "./end_processes.ts";
import { agentPaneEnvName, paneEnvPath } from "./pane_env.ts";
import { existsSync } from "node:fs";
import { AppError, UsageError } from "../core/errors.ts";
import { slugify } from "../core/slug.ts";
import {
  defaultBranch,
  deleteBranch,
  removeWorktree,
  repoRoot,
  unmergedCount,
} from "../adapters/git.ts";
import {
  hasSession,
  killPane,
  listPanes,
  tmuxBatch,
} from "../adapters/tmux.ts";
import { eprintln, println } from "../output.ts";
import { findReceiptForRepo, writeReceipt } from "./receipt.ts";
import { releasePorts } from "./ports.ts";
import { acquireLock } from "./lock.ts";
import { keepRunningOnHangup, syncDiscovery } from "./common.ts";
import { dirtyError, worktreeDirt } from "./purge.ts";
import { releaseOutsideState, teardownAgentWorktree } from "../coord/setup.ts";
import { layoutCmds, SUPERVISOR_ROLE } from "./layout.ts";
import { relayoutWindow } from "./launch.ts";

/** Flags of `git paw remove`. */
export type RemoveOptions = { force?: boolean; keepWorktree?: boolean };

/** Run `git paw remove`. */
export async function removeCommand(
  branch: string,
  opts: RemoveOptions,
): Promise<void> {
  if (opts.force && opts.keepWorktree) {
    throw new UsageError(
      "--force and --keep-worktree cannot be used together.",
    );
  }
  const repo = await repoRoot();
  const receipt = await findReceiptForRepo(repo);
  if (!receipt) {
    throw new AppError(
      "Session error: no session for this repository. Start one with `git paw start`.",
      "no_session",
    );
  }
  const s = receipt.session_name;
  const i = receipt.worktrees.findIndex((w) =>
    w.branch === branch || slugify(w.branch) === branch
  );
  if (i < 0) {
    throw new UsageError(
      `Branch error: '${branch}' is not in session '${s}'. Agents: ${
        receipt.worktrees.map((w) => w.branch).join(", ") || "(none)"
      }.`,
    );
  }
  const w = receipt.worktrees[i]!;
  if (receipt.worktrees.length === 1) {
    throw new UsageError(
      `Session error: '${w.branch}' is the last agent of session '${s}'. Use \`git paw stop\` to stop the session or \`git paw purge\` to remove it.`,
    );
  }
  const exists = existsSync(w.worktree_path);
  if (exists && !opts.force && !opts.keepWorktree) {
    const dirt = await worktreeDirt(w.worktree_path);
    if (dirt) throw dirtyError(`remove '${w.branch}'`, [dirt]);
  }
  await using _lock = await acquireLock(repo, { command: "remove" });
  let closePane: (() => Promise<void>) | null = null;
  if (await hasSession(s) === "alive") {
    const panes = await listPanes(s);
    const pane = panes.find((p) => p.agent === slugify(w.branch));
    if (pane) {
      const rest = panes.filter((p) => p.id !== pane.id);
      closePane = async () => {
        // The pane and what its CLI started (also what ignores a hang-up).
        await endSessionProcesses(
          {
            session: s,
            repo: receipt.repo_path,
            agent: { id: pane.agent, pane: pane.id },
          },
          () => killPane(pane.id),
        );
        await Deno.remove(paneEnvPath(s, agentPaneEnvName(pane.agent))).catch(
          () => {},
        );
        if (rest.some((p) => p.role === SUPERVISOR_ROLE)) {
          await relayoutWindow(s).catch(() => {});
        } else if (rest[0]) {
          await tmuxBatch(layoutCmds(rest[0].id, {
            dashboard: rest.some((p) => p.role === "dashboard"),
          })).catch(() => {});
        }
      };
    }
  }
  // Run from the agent's own pane: close it last (it is our terminal).
  const own = closePane !== null &&
    Deno.env.get("TMUX_PANE") !== undefined &&
    (await listPanes(s)).some((p) =>
      p.id === Deno.env.get("TMUX_PANE") && p.agent === slugify(w.branch)
    );
  if (closePane && !own) await closePane();
  if (opts.keepWorktree) {
    if (exists) {
      await teardownAgentWorktree({ repo, worktreePath: w.worktree_path });
    }
    println(`Keeping worktree on disk: ${w.worktree_path}`);
  } else if (exists) {
    await releaseOutsideState(w.worktree_path);
    await removeWorktree(repo, w.worktree_path, { force: true });
  }
  if (!opts.keepWorktree && w.branch_created) {
    const base = await defaultBranch(repo);
    const n = await unmergedCount(repo, w.branch, base);
    if (n > 0 && !opts.force) {
      eprintln(
        `Kept branch '${w.branch}': ${n} commit(s) not in ${base}. Delete it with \`git branch -D ${w.branch}\` once merged or unwanted.`,
      );
    } else {
      await deleteBranch(repo, w.branch).catch((e) =>
        eprintln(`warning: ${(e as Error).message}`)
      );
    }
  }
  receipt.worktrees.splice(i, 1);
  await writeReceipt(receipt);
  await releasePorts({ session: s, branch: w.branch });
  await syncDiscovery(receipt);
  if (receipt.mode === "supervisor") {
    // The supervisor's instructions no longer list the agent.
    const [{ refreshSupervisor }, { loadConfig }] = await Promise.all([
      import("./supervisor.ts"),
      import("./config_store.ts"),
    ]);
    await refreshSupervisor(receipt, await loadConfig(repo), eprintln);
  }
  println(`Removed '${w.branch}' from session '${s}'.`);
  if (closePane && own) {
    keepRunningOnHangup();
    await _lock.release();
    await closePane();
  }
}
