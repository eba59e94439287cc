/**
 * The environment of a session's panes, passed without argv. `start`/`add`
 * write, per pane, the environment of the command that launched it (its
 * credentials, proxies, CLI config dirs — everything but tmux's own
 * variables and a short deny-list) plus the session's own variables (broker
 * URL, bearer token, agent id) to an owner-only file:
 * `<session data dir>/pane-env/<name>.json` (dir 0700, file 0600). tmux
 * gets only that file's path (`GIT_PAW_ENV_FILE`) and variables that are no
 * secret, so a tmux server started earlier with another environment still
 * gives the CLI the user's, and no secret shows in `ps` or `/proc/*\/cmdline`.
 * The pane commands (`__agent-pane`, `__dashboard`) load the file before
 * anything else. The file stays for the pane's lifetime (a restarted pane
 * needs it again); every start/add rewrites it, `stop` and `purge` remove it.
 *
 * Needs `--allow-env`, `--allow-read`, `--allow-write` (the data dir),
 * `--allow-run=git` (the user's git identity for CLIs that hide it).
 * @module
 */
import { join } from "node:path";
import { writeTextAtomic } from "../adapters/fs.ts";
import { gitTry } from "../adapters/git_run.ts";
import { brokerDataDir } from "./receipt.ts";
import type { CliProfile } from "../core/cli_profiles.ts";
import { userPaneEnv } from "./pane_env_load.ts";

export {
  loadPaneEnv,
  PANE_ENV_FILE_ENV,
  userPaneEnv,
} from "./pane_env_load.ts";

/** Directory of a session's pane env files. */
function paneEnvDir(session: string): string {
  return join(brokerDataDir(session), "pane-env");
}

/** The env file of one pane: an agent's id, or `dashboard`. */
export function paneEnvPath(session: string, name: string): string {
  return join(paneEnvDir(session), `${name}.json`);
}

/**
 * Write the env file of pane `name` (0600 in a 0700 dir): the launching
 * command's environment (see {@link userPaneEnv}) with `vars` on top.
 * @returns its path
 */
export async function writePaneEnv(
  session: string,
  name: string,
  vars: Record<string, string>,
  base: Record<string, string> = Deno.env.toObject(),
): Promise<string> {
  const dir = paneEnvDir(session);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await Deno.chmod(dir, 0o700).catch(() => {});
  const path = paneEnvPath(session, name);
  const doc = { version: 1, env: { ...userPaneEnv(base), ...vars } };
  await writeTextAtomic(path, JSON.stringify(doc) + "\n", { mode: 0o600 });
  return path;
}

/** The env file name of an agent's pane. */
export function agentPaneEnvName(agentId: string): string {
  return `agent-${agentId}`;
}

/** Remove every pane env file of a session (stop, purge). */
export async function removePaneEnvs(session: string): Promise<void> {
  await Deno.remove(paneEnvDir(session), { recursive: true }).catch(() => {});
}

/** Quote one `GIT_CONFIG_PARAMETERS` item (`'key'='value'`). */
function gitParam(key: string, value: string): string {
  const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  return `${q(key)}=${q(value)}`;
}

/**
 * For a CLI whose shell hides the user's git config and turns hooks off
 * (`GIT_CONFIG_GLOBAL=/dev/null`, `core.hooksPath=`), as its profile says
 * (Gemini CLI does, docs/clis/gemini.md): the user's identity
 * (`git config user.name/email` in the worktree) as `GIT_AUTHOR_*` /
 * `GIT_COMMITTER_*`, and `GIT_CONFIG_PARAMETERS` pointing `core.hooksPath`
 * back at the hooks dir git-paw installed into (command-line scope wins
 * over the CLI's appended empty value). Nothing of the user's config is
 * changed. Empty for other CLIs.
 */
export async function gitIdentityEnv(
  profile: Pick<CliProfile, "hidesGitConfig">,
  worktree: string,
  hooksDir: string | null,
  inherited: Record<string, string> = Deno.env.toObject(),
): Promise<Record<string, string>> {
  if (profile.hidesGitConfig !== true) return {};
  const read = async (key: string) => {
    const r = await gitTry(worktree, ["config", "--get", key]).catch(() =>
      null
    );
    return r && r.code === 0 ? r.stdout.trim() : "";
  };
  const [name, email] = await Promise.all([
    read("user.name"),
    read("user.email"),
  ]);
  const out: Record<string, string> = {};
  if (name && !inherited.GIT_AUTHOR_NAME) out.GIT_AUTHOR_NAME = name;
  if (name && !inherited.GIT_COMMITTER_NAME) out.GIT_COMMITTER_NAME = name;
  if (email && !inherited.GIT_AUTHOR_EMAIL) out.GIT_AUTHOR_EMAIL = email;
  if (email && !inherited.GIT_COMMITTER_EMAIL) out.GIT_COMMITTER_EMAIL = email;
  if (hooksDir) {
    const prev = inherited.GIT_CONFIG_PARAMETERS ?? "";
    const own = gitParam("core.hooksPath", hooksDir);
    out.GIT_CONFIG_PARAMETERS = prev ? `${prev} ${own}` : own;
  }
  return out;
}
