/**
 * A repo for the review tests (diff, integration lane, merge queue): `main`
 * holds a tiny shell project whose test (`./check.sh`) sources `src/*.sh`
 * and runs `tests/*.sh`, appending a line to a runs log on every run; each
 * agent branch has its own worktree; a session receipt lists them (no tmux,
 * no broker unless a test adds one).
 * @module
 */
import { join } from "node:path";
import { pawArgs } from "../_helpers/paw_command.ts";
import { pawEnv } from "../_helpers/env.ts";

const dec = new TextDecoder();

/** Commit identity of tests and of the commands they run. */
export const IDENT: Record<string, string> = {
  GIT_AUTHOR_NAME: "paw test",
  GIT_AUTHOR_EMAIL: "paw@test.invalid",
  GIT_COMMITTER_NAME: "paw test",
  GIT_COMMITTER_EMAIL: "paw@test.invalid",
};

/** Output of one command. */
export type Out = { code: number; stdout: string; stderr: string };

/** The fixture. */
export type ReviewRepo = AsyncDisposable & {
  root: string;
  repo: string;
  /** XDG_DATA_HOME of the commands run by {@link ReviewRepo.paw}. */
  data: string;
  /** The file `check.sh` appends one line to per run. */
  runsLog: string;
  env: Record<string, string>;
  session: string;
  /** Worktree path of each agent branch. */
  worktrees: Record<string, string>;
  git(args: string[], cwd?: string): Promise<string>;
  gitOut(args: string[], cwd?: string): Promise<Out>;
  /**
   * Write files in `cwd` and commit them there (at `date`, an ISO time,
   * when given); returns the new commit.
   */
  commit(
    cwd: string,
    files: Record<string, string | null>,
    msg: string,
    date?: string,
  ): Promise<string>;
  /** `git paw <args>` in the repo, stdin not a terminal. */
  paw(args: string[], cwd?: string): Promise<Out>;
  /** Test runs so far (lines in the runs log). */
  runs(): Promise<number>;
  /** Rewrite the receipt (e.g. to add a broker port). */
  writeReceipt(extra?: Record<string, unknown>): Promise<void>;
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

/** `check.sh`: runs every test, appending to `runsLog` first. */
export function checkScript(runsLog: string, extra = ""): string {
  return `#!/bin/sh
echo run >> '${runsLog}'
${extra}
for f in src/*.sh; do . "./$f"; done
for t in tests/*.sh; do
  . "./$t" || { echo "FAIL: $t"; exit 1; }
done
echo ok
`;
}

/** The project on `main`. */
export function baseFiles(runsLog: string): Record<string, string> {
  return {
    "check.sh": checkScript(runsLog),
    "src/lib.sh": 'greet() { echo "hello $1"; }\n',
    "tests/greet_test.sh": '[ "$(greet ann)" = "hello ann" ]\n',
    "README.md": "# proj\n\nline two\n",
    ".gitignore": ".git-paw/sessions/\n",
    ".git-paw/config.toml":
      '[integration]\ntest_command = ["sh", "-c", "./check.sh"]\n',
  };
}

/** One branch renames `greet` to `salute` (and its test). */
export const RENAME: Record<string, string> = {
  "src/lib.sh": 'salute() { echo "hello $1"; }\n',
  "tests/greet_test.sh": '[ "$(salute ann)" = "hello ann" ]\n',
};

/** Another adds a caller of the old name `greet`. */
export const CALLER: Record<string, string> = {
  "src/welcome.sh": 'welcome() { greet "$1"; }\n',
  "tests/welcome_test.sh": '[ "$(welcome bob)" = "hello bob" ]\n',
};

/** An unrelated change. */
export const DOCS: Record<string, string> = {
  "docs/notes.md": "notes\n",
};

/**
 * Make the repo with agent branches `branches` (each in its own worktree
 * `<root>/proj-<branch>`) and a receipt for session `paw-proj`.
 */
export async function makeReviewRepo(
  branches: string[],
): Promise<ReviewRepo> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "paw-review-" }),
  );
  const repo = join(root, "proj");
  const data = join(root, "data");
  const runsLog = join(root, "runs.log");
  const base = pawEnv();
  for (const k of ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"]) {
    delete base[k];
  }
  const env: Record<string, string> = {
    ...base,
    ...IDENT,
    XDG_DATA_HOME: data,
    XDG_CONFIG_HOME: join(root, "config"),
    // Its own tmux server, should a command ask tmux anything.
    TMUX_TMPDIR: root,
    NO_COLOR: "1",
  };
  const gitOut = (args: string[], cwd = repo, extra = {}) =>
    exec("git", args, cwd, { ...env, ...extra });
  const git = async (args: string[], cwd = repo) => {
    const r = await gitOut(args, cwd);
    if (r.code !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const commit = async (
    cwd: string,
    files: Record<string, string | null>,
    msg: string,
    date?: string,
  ) => {
    for (const [p, text] of Object.entries(files)) {
      const abs = join(cwd, p);
      if (text === null) {
        await git(["rm", "-q", "--", p], cwd);
        continue;
      }
      await Deno.mkdir(join(abs, ".."), { recursive: true });
      await Deno.writeTextFile(abs, text);
      if (p.endsWith(".sh")) await Deno.chmod(abs, 0o755);
      await git(["add", "--", p], cwd);
    }
    const when = date
      ? { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date }
      : {};
    const r = await gitOut(["commit", "-q", "-m", msg], cwd, when);
    if (r.code !== 0) throw new Error(`git commit: ${r.stderr}`);
    return await git(["rev-parse", "HEAD"], cwd);
  };
  await Deno.mkdir(repo, { recursive: true });
  await Deno.mkdir(join(root, "config"), { recursive: true });
  await git(["init", "-q", "-b", "main"]);
  await commit(repo, baseFiles(runsLog), "init");
  const worktrees: Record<string, string> = {};
  for (const b of branches) {
    const p = join(root, `proj-${b}`);
    await git(["worktree", "add", "-q", "-b", b, p]);
    worktrees[b] = p;
  }
  const session = "paw-proj";
  const writeReceipt = async (extra: Record<string, unknown> = {}) => {
    const dir = join(data, "git-paw", "sessions");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      join(dir, `${session}.json`),
      JSON.stringify({
        session_name: session,
        repo_path: repo,
        project_name: "proj",
        created_at: new Date().toISOString(),
        status: "active",
        worktrees: branches.map((b) => ({
          branch: b,
          worktree_path: worktrees[b],
          cli: "demo",
          branch_created: true,
        })),
        ...extra,
      }),
    );
  };
  await writeReceipt();
  return {
    root,
    repo,
    data,
    runsLog,
    env,
    session,
    worktrees,
    git,
    gitOut,
    commit,
    writeReceipt,
    paw: (args, cwd) => exec(Deno.execPath(), pawArgs(args), cwd ?? repo, env),
    async runs() {
      try {
        return (await Deno.readTextFile(runsLog)).split("\n").filter((l) =>
          l !== ""
        ).length;
      } catch {
        return 0;
      }
    },
    async [Symbol.asyncDispose]() {
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
}
