/**
 * The session side of agent credentials: which agents a session broker
 * takes keys from. The receipt lists them (it is the user's, owner-only:
 * only `start`, `add` and `remove` change it) and each one's key file sits
 * in its worktree's git dir (lib/coord/credentials.ts). The broker reads
 * both again whenever they change, so `git paw add` needs no broker restart
 * and a removed agent's key stops working.
 * Needs `--allow-read`.
 * @module
 */
import type { AgentCredentials } from "../broker/api.ts";
import {
  fileStampSync,
  keyRegistry,
  type KeySource,
  supervisorCredential,
} from "../coord/credentials.ts";
import { gitDirs, gitDirsFromLayout } from "../adapters/git_layout.ts";
import { slugify } from "../core/slug.ts";
import { brokerDataDir, readReceipt, receiptPath } from "./receipt.ts";

/** The agents of `session`'s receipt, each with its worktree's git dir. */
function receiptKeySource(session: string, stateDir: string): KeySource {
  const path = receiptPath(session);
  return {
    stateDir,
    stamp: () => fileStampSync(path),
    async agents() {
      const r = await readReceipt(session);
      const out = new Map<string, string>();
      await Promise.all((r?.worktrees ?? []).map(async (w) => {
        const d = await gitDirsFromLayout(w.worktree_path).catch(() => null) ??
          await gitDirs(w.worktree_path).catch(() => null);
        if (d) out.set(slugify(w.branch), d.gitDir);
      }));
      return out;
    },
  };
}

/**
 * The credentials `session`'s broker checks: the receipt's agents' keys and
 * the supervisor's (minted in the session's state dir when missing).
 */
export async function sessionCredentials(
  session: string,
): Promise<AgentCredentials> {
  const stateDir = brokerDataDir(session);
  await supervisorCredential(stateDir);
  return keyRegistry(receiptKeySource(session, stateDir));
}

/**
 * The supervisor's key of `session`, for what the user's own commands send
 * on the session's behalf (`tell`, the unattended loop's nudges, the merge
 * queue): a session broker takes feedback to any agent with it. Undefined
 * when it cannot be read or made (the broker then refuses, and says so).
 */
export async function sessionSpeakerKey(
  session: string,
): Promise<string | undefined> {
  return await supervisorCredential(brokerDataDir(session)).catch(() =>
    undefined
  );
}
