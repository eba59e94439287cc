/**
 * Where a worktree's git dir is, read as lib/adapters/git_layout.ts reads it
 * at a worktree's top, without `node:path` (~15–20 ms of start-up) or a git
 * process: for the commands an agent's CLI starts all the time (the plain
 * `publish status`, the MCP server's fast start). POSIX, absolute paths
 * only (git-paw's sessions are POSIX-only). Needs `--allow-read`,
 * `--allow-env`.
 * @module
 */
import { GIT_DIR_ENV } from "../adapters/git_env.ts";

/**
 * `node:path`'s `normalize` of an absolute path, less a trailing `/`:
 * `.` and `..` resolved lexically, repeated `/` collapsed.
 */
export function normalizeAbsolute(p: string): string {
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") out.pop();
    else out.push(seg);
  }
  return `/${out.join("/")}`;
}

/** `node:path`'s `join(dir, name)` for an absolute `dir` and a file `name`. */
export function plainJoin(dir: string, name: string): string {
  return normalizeAbsolute(`${dir}/${name}`);
}

/** The OS's (and git's) `path` against `base`: from the real `base`. */
function physical(base: string, path: string): string {
  return path.startsWith("/")
    ? path
    : normalizeAbsolute(`${Deno.realPathSync(base)}/${path}`);
}

function readTrimmed(path: string): string | null {
  try {
    return Deno.readTextFileSync(path).replace(/[\r\n]+$/, "");
  } catch {
    return null;
  }
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.statSync(path);
  } catch {
    return null;
  }
}

/**
 * `gitDirsFromLayout(top)` of lib/adapters/git_layout.ts, synchronously and
 * without `node:path`: the worktree's git dir when `top` is a worktree's
 * top with a plain layout, else null. Also null for a `.git` file naming
 * an unnormalised path (the full path joins it lexically, the key file
 * reader does not): the full path handles those.
 */
export function plainGitDir(
  top: string,
  env: (name: string) => string | undefined,
): string | null {
  try {
    if (GIT_DIR_ENV.some((n) => env(n) !== undefined)) return null;
  } catch {
    return null; // cannot tell: let git decide
  }
  if (!top.startsWith("/")) return null;
  const dotGit = plainJoin(top, ".git");
  let gitDir: string;
  try {
    const st = Deno.statSync(dotGit);
    if (st.isDirectory) gitDir = dotGit;
    else if (st.isFile) {
      const text = readTrimmed(dotGit);
      if (text === null || !text.startsWith("gitdir: ")) return null;
      gitDir = physical(top, text.slice("gitdir: ".length));
    } else return null;
  } catch {
    return null;
  }
  if (normalizeAbsolute(gitDir) !== gitDir) return null;
  const common = readTrimmed(plainJoin(gitDir, "commondir"));
  let commonDir = gitDir;
  if (common !== null) {
    try {
      commonDir = physical(gitDir, common);
    } catch {
      return null;
    }
  }
  const ok = (statOrNull(plainJoin(gitDir, "HEAD"))?.isFile ?? false) &&
    (statOrNull(plainJoin(commonDir, "objects"))?.isDirectory ?? false) &&
    (statOrNull(plainJoin(commonDir, "refs"))?.isDirectory ?? false);
  return ok ? gitDir : null;
}
