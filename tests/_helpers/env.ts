/**
 * The environment a test gives the git-paw processes it starts: the same
 * tools as this process, but no AI CLI of the machine. A test must not
 * depend on which AI CLIs are installed, so git-paw's CLI detection sees
 * only what the test puts on PATH itself.
 *
 * - {@link cliFreePath}: this process's PATH with every directory that holds
 *   a known AI CLI replaced by a mirror of it without those CLIs;
 * - {@link SYSTEM_DIRS_ENV} set empty: detection searches `$PATH` only, not
 *   `/usr/bin`, `/bin`, `/usr/local/bin` on top.
 * @module
 */
import { delimiter, join } from "node:path";
import { KNOWN_CLIS, SYSTEM_DIRS_ENV } from "../../lib/session/clis.ts";

export { SYSTEM_DIRS_ENV };

const KNOWN = new Set<string>(KNOWN_CLIS);
let cached: string | undefined;
const mirrors: string[] = [];

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** `dir` without its AI CLIs: a temp dir of links to everything else. */
function mirror(dir: string): string {
  const out = Deno.makeTempDirSync({ prefix: "paw-path-" });
  mirrors.push(out);
  for (const e of Deno.readDirSync(dir)) {
    if (KNOWN.has(e.name)) continue;
    Deno.symlinkSync(join(dir, e.name), join(out, e.name));
  }
  return out;
}

/**
 * This process's PATH with no known AI CLI on it (computed once per
 * process; a directory without one is kept as it is).
 */
export function cliFreePath(): string {
  if (cached !== undefined) return cached;
  const dirs = (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(delimiter);
  cached = dirs.filter((d) => d !== "").map((d) =>
    KNOWN_CLIS.some((c) => isFile(join(d, c))) ? mirror(d) : d
  ).join(delimiter);
  return cached;
}

globalThis.addEventListener("unload", () => {
  for (const m of mirrors) {
    try {
      Deno.removeSync(m, { recursive: true });
    } catch { /* gone */ }
  }
});

/**
 * The variables that keep a git-paw child's CLI detection to what the test
 * provides: `PATH` (see {@link cliFreePath}) and no system-dir search.
 */
export function noMachineClis(): Record<string, string> {
  return { PATH: cliFreePath(), [SYSTEM_DIRS_ENV]: "" };
}

/**
 * This process's environment for a git-paw child: without the outer tmux
 * (`TMUX`, `TMUX_PANE`) and with {@link noMachineClis}.
 */
export function pawEnv(): Record<string, string> {
  const env = Deno.env.toObject();
  delete env.TMUX;
  delete env.TMUX_PANE;
  return { ...env, ...noMachineClis() };
}
