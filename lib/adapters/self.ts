/**
 * How to run this same git-paw again from a tmux pane or a git hook: the argv
 * prefix that starts it, whether we run from a checkout (`deno run main.ts`),
 * a bundle (`deno run dist/git-paw.js`) or a compiled binary.
 * @module
 */

// No node:path / node:url here: pane 0 and the agent panes re-invoke
// git-paw through this module, and loading Node's modules costs each of
// them CPU while `start` is still working. POSIX paths only (tmux).

/** The path of a `file:` URL (percent-decoded); other URLs as they are. */
function urlPath(url: string): string {
  return url.startsWith("file:")
    ? decodeURIComponent(new URL(url).pathname)
    : url;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function parentDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? (i === 0 ? "/" : ".") : path.slice(0, i);
}

function pathExists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The argv that re-invokes git-paw, e.g.
 * `["/usr/bin/deno", "run", "-A", "--config", "/src/deno.json", "/src/main.ts"]`.
 * Needs `--allow-read` (to find deno.json).
 */
export function selfArgv(): string[] {
  const exec = Deno.execPath();
  const override = Deno.env.get("GIT_PAW_SELF");
  if (override) return JSON.parse(override) as string[];
  const name = lastSegment(exec).replace(/\.exe$/, "");
  if (name !== "deno") return [exec]; // compiled binary
  const mainPath = urlPath(Deno.mainModule);
  const argv = [exec, "run", "-A", "--quiet"];
  const dir = parentDir(mainPath);
  const config = dir.endsWith("/") ? `${dir}deno.json` : `${dir}/deno.json`;
  if (mainPath.endsWith(".ts") && pathExists(config)) {
    argv.push("--config", config);
  }
  argv.push(mainPath);
  return argv;
}
