/**
 * Helpers for the session end-to-end tests: a temp world (git repo, isolated
 * tmux server via TMUX_TMPDIR, XDG dirs) and `git paw …` run as a user runs
 * it (`deno run -A main.ts`, stdin not a terminal). Polling with timeouts,
 * never fixed sleeps.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pawArgs } from "../_helpers/paw_command.ts";
import { pawEnv } from "../_helpers/env.ts";
import { waitFor } from "../_helpers/wait.ts";
import { initRepo as initTempRepo } from "../_helpers/repo.ts";

export { waitFor };

const dec = new TextDecoder();

/** Identity for commits (tests must not need a global git identity). */
export const IDENTITY: Record<string, string> = {
  GIT_AUTHOR_NAME: "paw test",
  GIT_AUTHOR_EMAIL: "paw@test.invalid",
  GIT_COMMITTER_NAME: "paw test",
  GIT_COMMITTER_EMAIL: "paw@test.invalid",
};

/** Output of one command. */
export type Out = { code: number; stdout: string; stderr: string };

/** A temp world; dispose kills its tmux server and removes everything. */
export type World = AsyncDisposable & {
  root: string;
  repo: string;
  env: Record<string, string>;
  /** `git paw <args>` in `cwd` (default the repo). */
  paw(args: string[], cwd?: string): Promise<Out>;
  /** `tmux <args>` on this world's server. */
  tmux(args: string[]): Promise<Out>;
  /** `git <args>` in `cwd` (default the repo). */
  git(args: string[], cwd?: string): Promise<Out>;
  /** Write the global config.toml. */
  writeConfig(toml: string): Promise<void>;
};

async function exec(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<Out> {
  const o = await new Deno.Command(cmd, {
    args,
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  };
}

/** `git init -b main` in `dir` plus an empty first commit, run with `env`. */
export function initRepo(
  dir: string,
  env: Record<string, string>,
): Promise<void> {
  return initTempRepo(dir, { files: {}, env });
}

/** A port that was free a moment ago (bind port 0, read it, close). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * `toml` with `[broker] port = <port>` added unless it already sets a broker
 * port, so parallel test runs never share the default 9119.
 */
export function withBrokerPort(toml: string, port: number): string {
  const lines = toml.split("\n");
  const head = lines.findIndex((l) => /^\s*\[broker\]\s*(#.*)?$/.test(l));
  if (head < 0) {
    const sep = toml === "" || toml.endsWith("\n") ? "" : "\n";
    return `${toml}${sep}\n[broker]\nport = ${port}\n`;
  }
  let end = lines.findIndex((l, i) => i > head && /^\s*\[/.test(l));
  if (end < 0) end = lines.length;
  if (lines.slice(head + 1, end).some((l) => /^\s*port\s*=/.test(l))) {
    return toml;
  }
  lines.splice(head + 1, 0, `port = ${port}`);
  return lines.join("\n");
}

/** Options for {@link makeWorld}. */
export type WorldOptions = { project?: string; root?: string };

/** Create a temp world with a repo named `project` (default `proj`). */
export async function makeWorld(opts: WorldOptions = {}): Promise<World> {
  const root = opts.root ??
    await Deno.realPath(await Deno.makeTempDir({ prefix: "pawe2e" }));
  const repo = join(root, opts.project ?? "proj");
  const env: Record<string, string> = {
    ...pawEnv(),
    ...IDENTITY,
    TMUX_TMPDIR: root,
    XDG_CONFIG_HOME: join(root, "config"),
    XDG_DATA_HOME: join(root, "data"),
    NO_COLOR: "1",
    SHELL: "/bin/sh",
  };
  await Deno.mkdir(join(root, "config", "git-paw"), { recursive: true });
  // Every world gets its own broker port (tests may override it).
  const brokerPort = freePort();
  const configFile = join(root, "config", "git-paw", "config.toml");
  await Deno.writeTextFile(configFile, withBrokerPort("", brokerPort));
  await initRepo(repo, env);
  const world: World = {
    root,
    repo,
    env,
    paw: (args, cwd) =>
      exec(
        Deno.execPath(),
        pawArgs(args),
        cwd ?? repo,
        env,
      ),
    tmux: (args) => exec("tmux", args, root, env),
    git: (args, cwd) => exec("git", args, cwd ?? repo, env),
    writeConfig: (toml) =>
      Deno.writeTextFile(configFile, withBrokerPort(toml, brokerPort)),
    async [Symbol.asyncDispose]() {
      await exec("tmux", ["kill-server"], root, env).catch(() => {});
      if (!opts.root) {
        await Deno.remove(root, { recursive: true }).catch(() => {});
      }
    },
  };
  return world;
}

/**
 * At an agent pane's guard prompt: press Enter until the shell runs. The
 * guard only takes an Enter that arrives alone, so under load (keys
 * coalesced into one read) one press may not count; a press reaching the
 * shell just shows another prompt.
 */
export async function openGuardShell(w: World, pane: string): Promise<void> {
  await waitFor("the shell after Enter", async () => {
    const r = await w.tmux([
      "display-message",
      "-p",
      "-t",
      pane,
      "#{pane_current_command}",
    ]);
    if (r.stdout.trim() === "sh") return true;
    await w.tmux(["send-keys", "-t", pane, "Enter"]);
    return false;
  }, 30_000);
}

/** Text of a pane (`capture-pane -p`). */
export async function capture(w: World, target: string): Promise<string> {
  const r = await w.tmux(["capture-pane", "-p", "-J", "-t", target]);
  return r.code === 0 ? r.stdout : "";
}

/**
 * Wait until the demo agent in `pane` has done its first task (edited and
 * committed its file: `[demo] idle` on screen) and left `worktree` clean.
 * Until then the worktree may hold its uncommitted edit.
 */
export async function demoIdle(
  w: World,
  pane: string,
  worktree: string,
): Promise<void> {
  await waitFor(
    `demo agent idle in ${pane}`,
    async () => (await capture(w, pane)).includes("[demo] idle"),
    60_000,
  );
  await waitFor(`${worktree} clean`, async () => {
    const r = await w.git(["status", "--porcelain"], worktree);
    return r.code === 0 && r.stdout === "";
  });
}

/** Pane rows of the session: id, title and agent id. */
export async function panes(
  w: World,
  session: string,
): Promise<Array<{ id: string; title: string; agent: string; role: string }>> {
  const r = await w.tmux([
    "list-panes",
    "-s",
    "-t",
    `=${session}`,
    "-F",
    "#{pane_id}\x1f#{@paw_agent}\x1f#{@paw_role}\x1f#{pane_title}",
  ]);
  if (r.code !== 0) return [];
  return r.stdout.split("\n").filter((l) => l).map((l) => {
    const [id, agent, role, title] = l.split("\x1f");
    return { id: id!, agent: agent!, role: role!, title: title! };
  });
}

/** True when `path` exists. */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/** `git paw status --json` as parsed. */
export type StatusDoc = {
  session: string | null;
  status?: string;
  tmux_running?: boolean;
  broker_url?: string | null;
  worktrees?: Array<{
    branch: string;
    cli: string;
    worktree_path: string;
    port?: number;
    ports?: string;
  }>;
};

/** Parse `git paw status --json`. */
export async function statusJson(w: World): Promise<StatusDoc> {
  const r = await w.paw(["status", "--json"]);
  if (r.code !== 0) throw new Error(`status --json failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** `git paw start --no-broker --cli demo --branches <branches>`, asserted to succeed. */
export async function startDemoNoBroker(
  w: World,
  branches: string,
): Promise<Out> {
  const r = await w.paw([
    "start",
    "--no-broker",
    "--cli",
    "demo",
    "--branches",
    branches,
  ]);
  assert.equal(r.code, 0, r.stderr);
  return r;
}
