/**
 * The pane side of lib/session/pane_env.ts: load a pane's owner-only env
 * file into the pane command's process before it starts anything. Kept free
 * of imports: every pane runs it at start-up.
 *
 * Needs `--allow-env`, `--allow-read` (the file).
 * @module
 */

/** The variable naming a pane's env file. */
export const PANE_ENV_FILE_ENV = "GIT_PAW_ENV_FILE";

/**
 * Variables never copied into a pane: tmux's and the terminal's own (the
 * pane has its own), the shell's bookkeeping, git's per-command ones (they
 * would point the agent at another repo), and git-paw's per-pane ones (set
 * fresh for each pane).
 */
const DENIED = new Set([
  "TMUX",
  "TMUX_PANE",
  "TERM",
  "TERM_PROGRAM",
  "TERM_PROGRAM_VERSION",
  "TERM_SESSION_ID",
  "COLORTERM",
  "COLUMNS",
  "LINES",
  "SHLVL",
  "PWD",
  "OLDPWD",
  "_",
  "STY",
  "WINDOW",
  "WINDOWID",
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_PREFIX",
  "GIT_COMMON_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_NAMESPACE",
  "GIT_PAW_AGENT_ID",
  "GIT_PAW_BROKER_URL",
  "GIT_PAW_BROKER_TOKEN",
  "GIT_PAW_SESSION",
  "GIT_PAW_LAUNCH_GATE",
  "GIT_PAW_BOOT_FILE",
  PANE_ENV_FILE_ENV,
]);

/** The launching command's environment minus the deny-list. Pure. */
export function userPaneEnv(
  env: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) {
    if (!DENIED.has(k)) out[k] = v;
  }
  return out;
}

/**
 * Load the env file named by `GIT_PAW_ENV_FILE` into this process (a pane
 * command, before it starts anything), then drop that variable. A missing
 * or garbled file changes nothing: the pane still has tmux's env.
 * @returns the number of variables set
 */
export async function loadPaneEnv(
  path: string | undefined = Deno.env.get(PANE_ENV_FILE_ENV),
): Promise<number> {
  Deno.env.delete(PANE_ENV_FILE_ENV);
  if (!path) return 0;
  let doc: unknown;
  try {
    doc = JSON.parse(await Deno.readTextFile(path));
  } catch {
    return 0;
  }
  const env = (doc as { env?: unknown } | null)?.env;
  if (!env || typeof env !== "object") return 0;
  let n = 0;
  for (const [k, v] of Object.entries(env as Record<string, unknown>)) {
    if (typeof v !== "string" || k === "" || k.includes("=")) continue;
    if (DENIED.has(k) && !k.startsWith("GIT_PAW_")) continue;
    try {
      Deno.env.set(k, v);
      n++;
    } catch { /* a name the platform refuses */ }
  }
  return n;
}
