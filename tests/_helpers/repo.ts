/**
 * The one temp-repo builder of the test suite: a real git repo in a fresh
 * temp dir (canonical path), with a fixed identity so commits work on a
 * machine without a global git config, and linked worktrees on request.
 * @module
 */
import { dirname, join } from "node:path";

/** The identity and config isolation every builder git call runs with. */
export const REPO_GIT_ENV: Readonly<Record<string, string>> = {
  GIT_AUTHOR_NAME: "paw test",
  GIT_AUTHOR_EMAIL: "paw@test.invalid",
  GIT_COMMITTER_NAME: "paw test",
  GIT_COMMITTER_EMAIL: "paw@test.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};

const dec = new TextDecoder();

async function git(
  cwd: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<string> {
  const out = await new Deno.Command("git", {
    args,
    cwd,
    env: { ...REPO_GIT_ENV, ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (out.code !== 0) {
    throw new Error(`git ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

/** The absolute git dir of the worktree at `path`. */
export async function gitDirOf(path: string): Promise<string> {
  return (await git(path, ["rev-parse", "--absolute-git-dir"])).trim();
}

/** How {@link initRepo} / {@link makeRepo} build the repo. */
export type RepoOptions = {
  /** Initial branch (default `main`). */
  branch?: string;
  /**
   * Files of the first commit (default `README.md` = `# proj\n`); `{}` makes
   * an empty first commit.
   */
  files?: Record<string, string>;
  /** No first commit at all. */
  empty?: boolean;
  /** Message of the first commit (default `init`). */
  message?: string;
  /** Also write the identity into the repo's own config (`user.name`, …). */
  localIdentity?: boolean;
  /** More environment for the builder's git calls (e.g. a test HOME). */
  env?: Record<string, string>;
};

/** Make `dir` (created if missing) a git repo as `opts` says. */
export async function initRepo(
  dir: string,
  opts: RepoOptions = {},
): Promise<void> {
  const env = opts.env ?? {};
  await Deno.mkdir(dir, { recursive: true });
  await git(dir, ["init", "-q", "-b", opts.branch ?? "main"], env);
  if (opts.localIdentity) {
    await git(dir, ["config", "user.name", REPO_GIT_ENV.GIT_AUTHOR_NAME!], env);
    await git(
      dir,
      ["config", "user.email", REPO_GIT_ENV.GIT_AUTHOR_EMAIL!],
      env,
    );
    await git(dir, ["config", "commit.gpgsign", "false"], env);
  }
  if (opts.empty) return;
  const files = opts.files ?? { "README.md": "# proj\n" };
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(dirname(join(dir, name)), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  const message = opts.message ?? "init";
  if (Object.keys(files).length === 0) {
    await git(dir, ["commit", "-q", "--allow-empty", "-m", message], env);
    return;
  }
  await git(dir, ["add", "-A"], env);
  await git(dir, ["commit", "-q", "-m", message], env);
}

/** A temp dir removed on dispose. */
export type TempDir = AsyncDisposable & { path: string };

/** Make a temp dir (canonical path) removed on `await using`. */
export async function tempDir(prefix = "paw-test-"): Promise<TempDir> {
  const path = await Deno.realPath(await Deno.makeTempDir({ prefix }));
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** A temp repo: `root` is the temp dir, `repo` the checkout inside it. */
export type TempRepo = AsyncDisposable & { root: string; repo: string };

/** Options of {@link makeRepo}. */
export type MakeRepoOptions = RepoOptions & {
  /** Directory name of the repo inside the temp dir (default `proj`). */
  name?: string;
  /** Temp dir prefix (default `paw-test-`). */
  prefix?: string;
};

/** A fresh temp dir holding a repo built by {@link initRepo}; removed on dispose. */
export async function makeRepo(opts: MakeRepoOptions = {}): Promise<TempRepo> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: opts.prefix ?? "paw-test-" }),
  );
  const repo = join(root, opts.name ?? "proj");
  try {
    await initRepo(repo, opts);
  } catch (e) {
    await Deno.remove(root, { recursive: true }).catch(() => {});
    throw e;
  }
  return {
    root,
    repo,
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * `git worktree add -b <branch> <path>` from `repo`; `path` defaults to
 * `<dirname(repo)>/<branch with / as ->`. Returns the path.
 */
export async function addWorktree(
  repo: string,
  branch: string,
  path: string = join(dirname(repo), branch.replaceAll("/", "-")),
): Promise<string> {
  await git(repo, ["worktree", "add", "-q", "-b", branch, path]);
  return path;
}
