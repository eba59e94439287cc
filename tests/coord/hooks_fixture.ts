/**
 * Shared fixtures for the coordination tests: temp git repos with a fixed
 * identity, worktrees, a real broker, and the argv that runs this checkout's
 * git-paw from a hook.
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startBroker } from "../../lib/broker/server.ts";

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

/** A temp dir holding `repo/` (branch main, one commit unless `empty`). */
export type TempRepo = AsyncDisposable & { root: string; repo: string };

/** Make a temp repo; dispose removes everything. */
export async function tempRepo(
  opts: { empty?: boolean; files?: Record<string, string> } = {},
): Promise<TempRepo> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "paw-coord-" }),
  );
  const repo = join(root, "repo");
  await Deno.mkdir(repo);
  await git(repo, "init", "-q", "-b", "main");
  if (!opts.empty) {
    const files = opts.files ?? { "README.md": "# demo\n" };
    for (const [name, text] of Object.entries(files)) {
      await Deno.mkdir(join(repo, name, ".."), { recursive: true });
      await Deno.writeTextFile(join(repo, name), text);
    }
    await git(repo, "add", "-A");
    await git(repo, "commit", "-q", "-m", "init");
  }
  return {
    root,
    repo,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** `git worktree add <root>/<dir> -b <branch>`; returns the path. */
export async function addWorktree(
  t: TempRepo,
  branch: string,
): Promise<string> {
  const path = join(t.root, branch.replaceAll("/", "-"));
  await git(t.repo, "worktree", "add", "-q", path, "-b", branch);
  return path;
}

/** `git status --porcelain` of `cwd`, ignored files not shown. */
export async function status(cwd: string): Promise<string> {
  return await git(cwd, "status", "--porcelain", "--untracked-files=all");
}

/** A real broker on an OS-chosen port, in a temp data dir. */
export async function tempBroker(
  opts: { token?: string } = {},
) {
  const dataDir = await Deno.makeTempDir({ prefix: "paw-coord-broker-" });
  const broker = await startBroker({
    port: 0,
    dataDir,
    session: "paw-test",
    quiet: true,
    token: opts.token,
  });
  return Object.assign(broker, {
    async [Symbol.asyncDispose]() {
      await broker.close();
      await Deno.remove(dataDir, { recursive: true });
    },
  });
}

/** A URL where nothing listens (a port we bound and released). */
export function deadUrl(): string {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return `http://127.0.0.1:${port}`;
}
