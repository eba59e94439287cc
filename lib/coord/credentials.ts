/**
 * Agent credentials on disk and their check (docs/REFERENCE.md, "Broker
 * wire format"): each agent worktree's key file `<git-dir>/paw-agent-key`
 * (next to the marker, owner-only, never in the worktree's tree), minted by
 * setup and removed by teardown; the supervisor's in the session's state
 * dir (`<state dir>/supervisor-key`); and {@link keyRegistry}, the
 * {@link AgentCredentials} a broker checks keys with, over a
 * {@link KeySource} the session side gives it (the broker knows no
 * worktrees). Files are curl header files (lib/core/agent_key.ts).
 *
 * Needs `--allow-read`, `--allow-write` (the git dirs, the state dir).
 * @module
 */
import { join } from "node:path";
import {
  AGENT_KEY_FILE,
  type AgentKeyFile,
  parseAgentKeyFile,
  renderAgentKeyFile,
  SUPERVISOR_KEY_FILE,
} from "../core/agent_key.ts";
import { SUPERVISOR_ID } from "../core/slug.ts";
import type { AgentCredentials } from "../broker/api.ts";
import { generateAgentKey } from "../broker/token.ts";
import { readTextOrNull, writeTextAtomic } from "../adapters/fs.ts";
import { MARKER_FILE, readMarkerFile } from "./marker.ts";
import { readAgentKeySync } from "../adapters/cli_state.ts";

export { AGENT_KEY_FILE, SUPERVISOR_KEY_FILE };

/** Path of the key file of the worktree whose git dir is `gitDir`. */
export function agentKeyPath(gitDir: string): string {
  return join(gitDir, AGENT_KEY_FILE);
}

/** The key file at `path`, or null (absent, unreadable, malformed). */
export async function readKeyFile(path: string): Promise<AgentKeyFile | null> {
  const text = await readTextOrNull(path).catch(() => null);
  return text === null ? null : parseAgentKeyFile(text);
}

/**
 * The agent key file of the worktree whose git dir is `gitDir`, or null. In
 * the repo root of a supervisor session (no key file there) it is the
 * supervisor's, which its state file names (`readAgentKeySync` of
 * lib/adapters/cli_state.ts, the one reading of that fallback).
 */
export function readAgentKey(gitDir: string): Promise<AgentKeyFile | null> {
  return Promise.resolve(readAgentKeySync(gitDir));
}

/**
 * Make sure the worktree whose git dir is `gitDir` has a key file: an
 * existing key is kept (a running CLI keeps working across restarts and
 * re-setups), a missing or malformed one is minted; the bearer-token line
 * follows `opts.token`. Written owner-only (0600), atomically.
 * @returns the agent's key
 */
export async function ensureAgentKey(
  gitDir: string,
  opts: { token?: string } = {},
): Promise<string> {
  return await ensureKeyFile(agentKeyPath(gitDir), opts.token);
}

async function ensureKeyFile(path: string, token?: string): Promise<string> {
  const text = await readTextOrNull(path).catch(() => null);
  const have = text === null ? null : parseAgentKeyFile(text);
  const key = have?.key ?? generateAgentKey();
  const next = renderAgentKeyFile(token ? { key, token } : { key });
  if (text !== next) await writeTextAtomic(path, next, { mode: 0o600 });
  await Deno.chmod(path, 0o600).catch(() => {});
  return key;
}

/** Remove the key file of the worktree whose git dir is `gitDir`. */
export async function removeAgentKey(gitDir: string): Promise<void> {
  await Deno.remove(agentKeyPath(gitDir)).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
}

/** Path of the supervisor's key file in a session's state dir. */
export function supervisorKeyPath(stateDir: string): string {
  return join(stateDir, SUPERVISOR_KEY_FILE);
}

/**
 * The supervisor's credential of the session whose state dir (its broker
 * data dir, `<data>/git-paw/sessions/<session>/`) is `stateDir`: read from
 * `<stateDir>/supervisor-key`, minted (0600, in a 0700 dir) when missing.
 * The supervisor pane sends it as `X-Git-Paw-Agent-Key` with every message
 * it publishes as `supervisor` (or runs `curl -K <that file>`); the session
 * broker accepts `supervisor` with nothing else. Stable across broker
 * restarts; concurrent first calls agree on one key.
 * @returns the key
 */
export async function supervisorCredential(stateDir: string): Promise<string> {
  const path = supervisorKeyPath(stateDir);
  const have = await readKeyFile(path);
  if (have) return have.key;
  await Deno.mkdir(stateDir, { recursive: true, mode: 0o700 });
  const key = generateAgentKey();
  try {
    // createNew: two first calls cannot both win.
    const f = await Deno.open(path, {
      write: true,
      createNew: true,
      mode: 0o600,
    });
    try {
      await f.write(new TextEncoder().encode(renderAgentKeyFile({ key })));
    } finally {
      f.close();
    }
    return key;
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
  }
  for (let i = 0; i < 50; i++) {
    const now = await readKeyFile(path);
    if (now) return now.key;
    await new Promise((r) => setTimeout(r, 10)); // the winner is writing it
  }
  // A malformed file someone else left: replace it.
  return await ensureKeyFile(path);
}

/**
 * Where a {@link keyRegistry} finds agents' keys: which agents there are
 * and the git dir holding each one's key file, as the session lists them
 * now.
 */
export type KeySource = {
  /** Agent id → git dir of its worktree. */
  agents(): Promise<ReadonlyMap<string, string>>;
  /**
   * A cheap stamp (one stat, synchronous: it runs on every check) that
   * changes whenever {@link agents} may answer differently; without one,
   * the list is read again whenever an unknown agent or a wrong key comes.
   */
  stamp?: () => string;
  /** State dir holding the supervisor's key ({@link supervisorCredential}). */
  stateDir: string;
};

/**
 * `a === b` in time that depends only on the length (keys all have one
 * length; node:crypto's hash-and-`timingSafeEqual` costs ~17 µs a check
 * through Node compatibility, this a fraction of one).
 */
function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** A file's identity for change detection (`""` when it is missing). */
export function fileStampSync(path: string): string {
  try {
    const st = Deno.statSync(path);
    return `${st.mtime?.getTime() ?? 0}:${st.size}:${st.ino ?? 0}`;
  } catch {
    return "";
  }
}

/**
 * The credentials a session broker checks: `supervisor` against the state
 * dir's key, any other id against the key file of the worktree the source
 * lists for it. Every check stats the source's stamp (the receipt): when
 * it changed, the list and the key files are read again, so an agent
 * `add` lists is known at once and one `remove` takes out is refused at
 * once; a key that does not match its cached one is looked up in its
 * file again (re-minted); without a stamp, every check stats the key file.
 * A restarted broker reads the same files. Keys are compared in constant
 * time ({@link sameKey}). The
 * stat is synchronous on purpose: microseconds on the publish path, where
 * an async stat costs a thread hand-off per message.
 */
export function keyRegistry(source: KeySource): AgentCredentials {
  const files = new Map<string, { stamp: string; key: string }>();
  let agents: ReadonlyMap<string, string> | null = null;
  let agentsStamp: string | null = null;

  function keyIn(path: string): string | null {
    const stamp = fileStampSync(path);
    if (stamp === "") {
      files.delete(path);
      return null;
    }
    const known = files.get(path);
    if (known && known.stamp === stamp) return known.key;
    let f: AgentKeyFile | null = null;
    try {
      f = parseAgentKeyFile(Deno.readTextFileSync(path));
    } catch { /* gone meanwhile */ }
    if (!f) {
      files.delete(path);
      return null;
    }
    files.set(path, { stamp, key: f.key });
    return f.key;
  }

  /**
   * `given` is the key in `dir`. With `trustCache` (the source's stamp is
   * unchanged since the file was read) a cached key that matches is
   * taken without a stat; anything else looks at the file.
   */
  function matches(
    dir: string | undefined,
    given: string,
    trustCache = false,
  ): boolean {
    if (dir === undefined) return false;
    const path = agentKeyPath(dir);
    const known = trustCache ? files.get(path) : undefined;
    if (known && sameKey(known.key, given)) return true;
    const k = keyIn(path);
    return k !== null && sameKey(k, given);
  }

  async function reload(): Promise<ReadonlyMap<string, string>> {
    return agents = await source.agents().catch(() => new Map());
  }

  async function slow(
    agentId: string,
    given: string,
    stamp: string | null,
  ): Promise<boolean> {
    const before = agents?.get(agentId);
    const list = await reload();
    if (stamp !== null) {
      agentsStamp = stamp;
      files.clear(); // the session changed: look at every key file again
    }
    const dir = list.get(agentId);
    if (stamp === null && dir === before) return false; // checked already
    return matches(dir, given);
  }

  return {
    verify(agentId: string, key: string): Promise<boolean> {
      const given = key;
      if (agentId === SUPERVISOR_ID) {
        const k = keyIn(supervisorKeyPath(source.stateDir));
        return Promise.resolve(k !== null && sameKey(k, given));
      }
      if (source.stamp) {
        const st = source.stamp();
        if (agents === null || st !== agentsStamp) {
          return slow(agentId, given, st);
        }
        return Promise.resolve(matches(agents.get(agentId), given, true));
      }
      if (agents !== null && matches(agents.get(agentId), given)) {
        return Promise.resolve(true);
      }
      return slow(agentId, given, null);
    },
  };
}

/**
 * The agents git-paw set up in the repo whose common git dir is
 * `commonDir`: every linked worktree whose git dir holds a marker, by the
 * marker's agent id (a standalone `git paw broker --require-credentials`).
 */
export async function markedWorktrees(
  commonDir: string,
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const root = join(commonDir, "worktrees");
  try {
    for await (const ent of Deno.readDir(root)) {
      if (!ent.isDirectory) continue;
      const dir = join(root, ent.name);
      const m = await readMarkerFile(join(dir, MARKER_FILE));
      if (m) out.set(m.agent_id, dir);
    }
  } catch { /* no linked worktrees */ }
  return out;
}
