/**
 * The files a CLI's hook runs read and write in an agent worktree's git dir,
 * found without a git process (the hook runs on every tool call): the
 * marker's identity fields and the hooks' shared state
 * (`lib/core/cli_events.ts`), kept owner-only. The screen detector in pane 0
 * reads the same state for the tool call waiting for approval. Needs
 * `--allow-read`, `--allow-write` (the state file).
 * @module
 */
import { type CliEventState, parseCliEventState } from "../core/cli_events.ts";
import {
  AGENT_KEY_FILE,
  type AgentKeyFile,
  parseAgentKeyFile,
} from "../core/agent_key.ts";

/** File in a worktree's git dir where the hooks keep their state (0600). */
const CLI_STATE_FILE = "paw-cli-state";

/** The marker's file name (`MARKER_FILE` in coord/marker.ts, which loads zod). */
const MARKER_FILE = "paw-agent-id";
/** The supervisor's state file in the main checkout's git dir. */
const SUPERVISOR_STATE_FILE = "paw-supervisor.json";

// Plain POSIX path helpers: `node:path` costs ~15 ms of start-up, and this
// runs on every tool call (tmux, and so git-paw's sessions, are POSIX-only).
function join(dir: string, name: string): string {
  return `${dir.replace(/\/+$/, "")}/${name}`;
}

function isAbsolute(p: string): boolean {
  return p.startsWith("/");
}

/** `p` made absolute against `base`, `.` and `..` segments resolved. */
function resolve(base: string, p = "."): string {
  const out: string[] = [];
  for (const seg of (isAbsolute(p) ? p : `${base}/${p}`).split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

function dirname(p: string): string {
  const i = p.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : p.slice(0, i);
}

// Sync file calls on purpose: a hook process makes a handful, and Deno's
// first async file call costs a thread hand-off (~5-10 ms each here).
function readOrNull(path: string): string | null {
  try {
    return Deno.readTextFileSync(path);
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
export function findGitDir(start: string): string | null {
  let dir = resolve(Deno.cwd(), start);
  for (;;) {
    const dotGit = join(dir, ".git");
    try {
      const st = Deno.statSync(dotGit);
      if (st.isDirectory) return dotGit;
      const text = Deno.readTextFileSync(dotGit).replace(/[\r\n]+$/, "");
      if (!text.startsWith("gitdir: ")) return null;
      const p = text.slice("gitdir: ".length);
      return isAbsolute(p) ? p : resolve(Deno.realPathSync(dir), p);
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
export function readMarkerIdentity(gitDir: string): MarkerIdentity | null {
  // The repo root of a supervisor session has the supervisor's state file
  // (`SUPERVISOR_STATE_FILE` in coord/supervisor_root.ts) instead.
  const text = readOrNull(join(gitDir, MARKER_FILE)) ??
    readOrNull(join(gitDir, SUPERVISOR_STATE_FILE));
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

/**
 * The agent's key file in `gitDir` (`paw-agent-key`, lib/core/agent_key.ts):
 * its key and the bearer token it may hold, or null.
 */
export function readAgentKeySync(gitDir: string): AgentKeyFile | null {
  let text = readOrNull(join(gitDir, AGENT_KEY_FILE));
  if (text === null) {
    // The repo root of a supervisor session: its state file names the
    // supervisor's key file (in the session's state dir).
    const state = readOrNull(join(gitDir, SUPERVISOR_STATE_FILE));
    if (state !== null) {
      try {
        const f = (JSON.parse(state) as { key_file?: unknown }).key_file;
        if (typeof f === "string" && f !== "") text = readOrNull(f);
      } catch { /* garbled: no key */ }
    }
  }
  return text === null ? null : parseAgentKeyFile(text);
}

/** The hooks' state in `gitDir` (a fresh one when absent or garbled). */
export function readCliState(gitDir: string, cli: string): CliEventState {
  return parseCliEventState(readOrNull(join(gitDir, CLI_STATE_FILE)), cli);
}

/** Replace the hooks' state in `gitDir` (owner-only; errors are dropped). */
export function writeCliState(gitDir: string, state: CliEventState): void {
  const path = join(gitDir, CLI_STATE_FILE);
  const tmp = `${path}.${Deno.pid}.tmp`;
  try {
    Deno.writeTextFileSync(tmp, JSON.stringify(state) + "\n", { mode: 0o600 });
    Deno.chmodSync(tmp, 0o600); // whatever the umask
    Deno.renameSync(tmp, path);
  } catch {
    try {
      Deno.removeSync(tmp);
    } catch { /* never written */ }
  }
}

/**
 * When this process started, as an ordered clock: Linux's start time in
 * clock ticks since boot (`/proc/self/stat` field 22, 10 ms steps), else
 * null. A hook process starts right when the CLI runs the hook, whatever
 * Deno's start-up then costs, so two runs compare in the CLI's order.
 */
export function processStartTicks(): number | null {
  const stat = readOrNull("/proc/self/stat");
  if (stat === null) return null;
  // Field 2 (the command name, in parentheses) may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[19]); // field 22 counted from field 3
  return Number.isSafeInteger(ticks) && ticks > 0 ? ticks : null;
}

/** File in a worktree's git dir that serialises the hooks' runs. */
export const CLI_STATE_LOCK = `${CLI_STATE_FILE}.lock`;

/** A lock older than this is a crashed run's: taken over (ms). */
const LOCK_STALE_MS = 5000;
/** How long a run waits for the lock before it goes on without (ms). */
const LOCK_WAIT_MS = 3000;

function holderGone(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    if (st.mtime && Date.now() - st.mtime.getTime() > LOCK_STALE_MS) {
      return true;
    }
    const pid = Number(Deno.readTextFileSync(path).trim());
    if (!Number.isInteger(pid) || pid <= 0) return false; // being written
    Deno.kill(pid, "SIGURG"); // no-op signal: throws NotFound when gone
    return false;
  } catch (e) {
    return e instanceof Deno.errors.NotFound;
  }
}

/**
 * Take the hooks' lock of `gitDir` (a file created exclusively, naming
 * this pid): concurrent runs (background hooks) read, step and write the
 * state one at a time. A crashed holder's lock is taken over; after
 * {@link LOCK_WAIT_MS} the run goes on unlocked rather than hold the CLI
 * up. Resolves to the release function.
 */
export async function lockCliState(gitDir: string): Promise<() => void> {
  const path = join(gitDir, CLI_STATE_LOCK);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const f = Deno.openSync(path, {
        write: true,
        createNew: true,
        mode: 0o600,
      });
      try {
        f.writeSync(new TextEncoder().encode(`${Deno.pid}\n`));
      } finally {
        f.close();
      }
      return () => {
        try {
          Deno.removeSync(path);
        } catch { /* taken over meanwhile */ }
      };
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) return () => {};
    }
    if (holderGone(path)) {
      try {
        Deno.removeSync(path);
      } catch { /* another run took it over first */ }
      continue;
    }
    if (Date.now() > deadline) return () => {};
    await new Promise((r) => setTimeout(r, 5));
  }
}
