/**
 * The files a CLI's hook runs read and write in an agent worktree's git dir,
 * found without a git process (the hook runs on every tool call): the
 * marker's identity fields and the hooks' shared state
 * (`lib/core/cli_events.ts`), kept owner-only. The screen detector in pane 0
 * reads the same state for the tool call waiting for approval. Needs
 * `--allow-read`, `--allow-write` (the state file).
 * @module
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { type CliEventState, parseCliEventState } from "../core/cli_events.ts";

/** File in a worktree's git dir where the hooks keep their state (0600). */
export const CLI_STATE_FILE = "paw-cli-state";

/** The marker's file name (`MARKER_FILE` in coord/marker.ts, which loads zod). */
const MARKER_FILE = "paw-agent-id";

async function readOrNull(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return null;
  }
}

/**
 * The git dir of the worktree containing `start`: the first `.git` found
 * walking up (a directory, or a `gitdir: <path>` file of a linked
 * worktree). Null outside a repo. `GIT_DIR`-style overrides are not
 * honoured: hooks run in the CLI's plain environment.
 */
export async function findGitDir(start: string): Promise<string | null> {
  let dir = resolve(start);
  for (;;) {
    const dotGit = join(dir, ".git");
    try {
      const st = await Deno.stat(dotGit);
      if (st.isDirectory) return dotGit;
      const text = (await Deno.readTextFile(dotGit)).replace(/[\r\n]+$/, "");
      if (!text.startsWith("gitdir: ")) return null;
      const p = text.slice("gitdir: ".length);
      return isAbsolute(p) ? p : resolve(await Deno.realPath(dir), p);
    } catch { /* not here: one level up */ }
    const up = dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

/** Who an agent worktree's marker says it is. */
export type MarkerIdentity = { agentId: string; brokerUrl: string | null };

/**
 * The identity fields of the marker in `gitDir`, or null when there is no
 * marker (not an agent worktree) or it is not one. Only these two fields are
 * read, without the schema: coord/marker.ts owns the format.
 */
export async function readMarkerIdentity(
  gitDir: string,
): Promise<MarkerIdentity | null> {
  const text = await readOrNull(join(gitDir, MARKER_FILE));
  if (text === null) return null;
  try {
    const j = JSON.parse(text) as { agent_id?: unknown; broker_url?: unknown };
    if (typeof j.agent_id !== "string" || j.agent_id === "") return null;
    return {
      agentId: j.agent_id,
      brokerUrl: typeof j.broker_url === "string" && j.broker_url !== ""
        ? j.broker_url.replace(/\/+$/, "")
        : null,
    };
  } catch {
    return null;
  }
}

/** The hooks' state in `gitDir` (a fresh one when absent or garbled). */
export async function readCliState(
  gitDir: string,
  cli: string,
): Promise<CliEventState> {
  return parseCliEventState(
    await readOrNull(join(gitDir, CLI_STATE_FILE)),
    cli,
  );
}

/** Replace the hooks' state in `gitDir` (owner-only; errors are dropped). */
export async function writeCliState(
  gitDir: string,
  state: CliEventState,
): Promise<void> {
  const path = join(gitDir, CLI_STATE_FILE);
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    await Deno.writeTextFile(tmp, JSON.stringify(state) + "\n", {
      mode: 0o600,
    });
    await Deno.chmod(tmp, 0o600).catch(() => {});
    await Deno.rename(tmp, path);
  } catch {
    await Deno.remove(tmp).catch(() => {});
  }
}
