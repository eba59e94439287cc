/**
 * Shared fixtures for the coordination tests: temp git repos with a fixed
 * identity, worktrees, a real broker, and the argv that runs this checkout's
 * git-paw from a hook.
 * @module
 */
import { fileURLToPath } from "node:url";
import {
  addWorktree as addRepoWorktree,
  makeRepo,
  type TempRepo,
} from "../_helpers/repo.ts";
import { type TestBroker, testBroker } from "../_helpers/broker.ts";

/** This checkout's main.ts / deno.json. */
export const MAIN_TS = fileURLToPath(new URL("../../main.ts", import.meta.url));
export const DENO_JSON = fileURLToPath(
  new URL("../../deno.json", import.meta.url),
);

/** argv that runs this checkout's git-paw (what a hook bakes in). */
export const SELF: string[] = [
  Deno.execPath(),
  "run",
  "-A",
  "--quiet",
  "--config",
  DENO_JSON,
  MAIN_TS,
];

/** Env for git and git-paw children: fixed identity, no user config. */
export function gitEnv(extra: Record<string, string> = {}): Record<
  string,
  string
> {
  return {
    GIT_AUTHOR_NAME: "Paw Test",
    GIT_AUTHOR_EMAIL: "paw@example.invalid",
    GIT_COMMITTER_NAME: "Paw Test",
    GIT_COMMITTER_EMAIL: "paw@example.invalid",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: "/dev/null",
    NO_COLOR: "1",
    ...extra,
  };
}

const dec = new TextDecoder();

/** Result of a child process. */
export type Run = { code: number; stdout: string; stderr: string };

/** Run `cmd args` in `cwd` with {@link gitEnv}. */
export async function run(
  cmd: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<Run> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd,
    env: gitEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

/** Run git; throws with stderr when it fails. */
export async function git(
  cwd: string,
  ...args: string[]
): Promise<string> {
  const r = await run("git", args, cwd);
  if (r.code !== 0) {
    throw new Error(`git ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  }
  return r.stdout;
}

export type { TempRepo };

/** A temp dir holding `repo/` (branch main, one commit unless `empty`). */
export function tempRepo(
  opts: { empty?: boolean; files?: Record<string, string> } = {},
): Promise<TempRepo> {
  return makeRepo({
    name: "repo",
    prefix: "paw-coord-",
    files: opts.files ?? { "README.md": "# demo\n" },
    ...(opts.empty ? { empty: true } : {}),
  });
}

/** `git worktree add <root>/<dir> -b <branch>`; returns the path. */
export function addWorktree(t: TempRepo, branch: string): Promise<string> {
  return addRepoWorktree(t.repo, branch);
}

/** `git status --porcelain` of `cwd`, ignored files not shown. */
export async function status(cwd: string): Promise<string> {
  return await git(cwd, "status", "--porcelain", "--untracked-files=all");
}

/** A real broker on an OS-chosen port, in a temp data dir. */
export function tempBroker(opts: { token?: string } = {}): Promise<TestBroker> {
  return testBroker({ session: "paw-test", token: opts.token });
}

/** A URL where nothing listens (a port we bound and released). */
export function deadUrl(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}`;
}
