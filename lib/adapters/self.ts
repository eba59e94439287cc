/**
 * How to run this same git-paw again from a tmux pane or a git hook: the argv
 * prefix that starts it, whether we run from a checkout (`deno run main.ts`),
 * a bundle (`deno run dist/git-paw.js`) or a compiled binary.
 * @module
 */
import { fileURLToPath as fromFileUrl } from "node:url";
import { basename, dirname, join } from "node:path";
import { existsSync } from "./fs.ts";

/**
 * The argv that re-invokes git-paw, e.g.
 * `["/usr/bin/deno", "run", "-A", "--config", "/src/deno.json", "/src/main.ts"]`.
 * Needs `--allow-read` (to find deno.json).
 */
export function selfArgv(): string[] {
  const exec = Deno.execPath();
  const override = Deno.env.get("GIT_PAW_SELF");
  if (override) return JSON.parse(override) as string[];
  const name = basename(exec).replace(/\.exe$/, "");
  if (name !== "deno") return [exec]; // compiled binary
  const mainUrl = Deno.mainModule;
  const mainPath = mainUrl.startsWith("file:") ? fromFileUrl(mainUrl) : mainUrl;
  const argv = [exec, "run", "-A", "--quiet"];
  const config = join(dirname(mainPath), "deno.json");
  if (mainPath.endsWith(".ts") && existsSync(config)) {
    argv.push("--config", config);
  }
  argv.push(mainPath);
  return argv;
}
