/**
 * Runnable worktrees: before an agent's CLI starts in a NEW worktree,
 * (1) copy the main checkout's git-ignored files that `.worktreeinclude`
 * (repo root, gitignore syntax) or `[worktree] copy` select — `.env` and
 * the like — and (2) run `[worktree] setup` there, its output in
 * `<data>/git-paw/sessions/<session>/setup-<agent>.log`.
 *
 * Git does the matching: `git ls-files --others --ignored --exclude-from=`
 * the include patterns lists the untracked files they select, and `git
 * check-ignore --stdin` keeps those the repo's own ignore rules ignore (so
 * a copy never shows up in `git status`). With neither a
 * `.worktreeinclude` nor config, this costs one `stat` and no process.
 *
 * Copies use `Deno.copyFile` (copy-on-write where the OS and filesystem
 * offer it: clonefile on APFS, copy_file_range on Linux), keep file modes,
 * never overwrite, and never follow a symlink out of the repo.
 *
 * Needs `--allow-run=git` (and the setup programs), `--allow-read`,
 * `--allow-write`, `--allow-env`.
 * @module
 */
import { dirname, join, relative, resolve, sep } from "node:path";
import type { Config } from "../core/config.ts";
import { type PortBlock, portEnv } from "../core/ports.ts";
import type { AgentPlan } from "../core/agent_plan.ts";
import { gitTry } from "../adapters/git_run.ts";
import { statOrNull } from "../adapters/fs.ts";
import { runToLog } from "../adapters/log_run.ts";
import { eprintln } from "../output.ts";
import { brokerDataDir } from "./receipt.ts";

/** The include file at the repo root. */
const WORKTREE_INCLUDE = ".worktreeinclude";

/** One new worktree to make runnable. */
export type BootstrapTarget = {
  branch: string;
  agentId: string;
  worktreePath: string;
  ports?: PortBlock;
};

/** The bootstrap target of an agent, with its dev ports when it has some. */
export function bootstrapTarget(
  agent: AgentPlan,
  ports?: PortBlock,
): BootstrapTarget {
  return {
    branch: agent.branch,
    agentId: agent.agentId,
    worktreePath: agent.worktree,
    ...(ports ? { ports } : {}),
  };
}

/** A setup that did not succeed. */
export type SetupFailure = {
  branch: string;
  agentId: string;
  log: string;
  detail: string;
};

/** What {@link bootstrapWorktrees} did. */
export type BootstrapResult = {
  /** Files copied into each worktree. */
  copied: number;
  failures: SetupFailure[];
};

/** Options for {@link bootstrapWorktrees}. */
export type BootstrapOptions = {
  config: Config;
  session: string;
  /** Setups at once (default 4). */
  concurrency?: number;
  /** The files to copy, when already being listed ({@link includedIgnoredFiles}). */
  files?: Promise<string[]>;
};

/** Where the setup output of `agentId` in `session` goes. */
export function setupLogPath(session: string, agentId: string): string {
  return join(brokerDataDir(session), `setup-${agentId}.log`);
}

/**
 * Copy the selected ignored files into each of `targets` (all new
 * worktrees of `repo`, the main checkout), then run the setup in each,
 * several at once. Progress and warnings go to stderr; a failed setup is
 * reported in the result (and named on stderr), never thrown.
 */
export async function bootstrapWorktrees(
  repo: string,
  targets: readonly BootstrapTarget[],
  opts: BootstrapOptions,
): Promise<BootstrapResult> {
  const result: BootstrapResult = { copied: 0, failures: [] };
  if (targets.length === 0) return result;
  const files = await (opts.files ??
    includedIgnoredFiles(repo, opts.config.worktree.copy));
  if (files.length > 0) {
    result.copied = await copyIntoWorktrees(repo, files, targets);
  }
  const steps = opts.config.worktree.setup;
  if (steps.length > 0) {
    result.failures = await runSetups(repo, targets, steps, opts);
  }
  return result;
}

/**
 * The main checkout's untracked files that the include patterns select
 * and the repo's ignore rules ignore, repo-relative. Empty (and no git
 * process) when there are no patterns.
 */
export async function includedIgnoredFiles(
  repo: string,
  extra: readonly string[],
): Promise<string[]> {
  const includeFile = join(repo, WORKTREE_INCLUDE);
  const hasFile = (await statOrNull(includeFile))?.isFile === true;
  if (!hasFile && extra.length === 0) return [];
  let patterns = includeFile;
  let tmp: string | undefined;
  if (extra.length > 0) {
    const own = hasFile ? await Deno.readTextFile(includeFile) : "";
    tmp = await Deno.makeTempFile({ prefix: "git-paw-include-" });
    await Deno.writeTextFile(tmp, `${own}\n${extra.join("\n")}\n`);
    patterns = tmp;
  }
  try {
    const selected = await gitTry(repo, [
      "ls-files",
      "-z",
      "--others",
      "--ignored",
      `--exclude-from=${patterns}`,
    ]);
    if (selected.code !== 0) {
      eprintln(
        `warning: cannot list the files ${WORKTREE_INCLUDE} selects: ${selected.stderr.trim()}`,
      );
      return [];
    }
    const candidates = selected.stdout.split("\0").filter((p) =>
      p !== "" && !p.startsWith(".git-paw/")
    );
    if (candidates.length === 0) return [];
    // Only what git ignores anyway: a copy must never appear in `git status`.
    const ignored = await gitTry(repo, ["check-ignore", "-z", "--stdin"], {
      stdin: candidates.join("\0") + "\0",
    });
    return ignored.stdout.split("\0").filter((p) => p !== "");
  } finally {
    if (tmp) await Deno.remove(tmp).catch(() => {});
  }
}

function inside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === "" || (!r.startsWith("..") && !r.startsWith(sep) && r !== "..");
}

/** The real path of `p`'s nearest existing ancestor (itself included). */
async function realAncestor(p: string): Promise<string> {
  let cur = p;
  for (;;) {
    try {
      return await Deno.realPath(cur);
    } catch {
      const up = dirname(cur);
      if (up === cur) return cur;
      cur = up;
    }
  }
}

type CopyOutcome = "copied" | "exists" | "outside" | "gone";

/** Copy `rel` from the main checkout into worktree `wt`. */
async function copyOne(
  repo: { path: string; real: string },
  wt: { path: string; real: string },
  rel: string,
): Promise<CopyOutcome> {
  const src = join(repo.path, rel);
  let st: Deno.FileInfo;
  let real: string;
  try {
    st = await Deno.lstat(src);
    real = await Deno.realPath(src);
  } catch {
    return "gone"; // removed meanwhile, or a dangling link
  }
  if (!inside(repo.real, real)) return "outside";
  const dest = resolve(wt.path, rel);
  if (!inside(wt.real, await realAncestor(dirname(dest)))) return "outside";
  if (await statOrNull(dest) !== null) return "exists";
  try {
    await Deno.lstat(dest);
    return "exists"; // a dangling link: not ours to replace
  } catch { /* free */ }
  await Deno.mkdir(dirname(dest), { recursive: true });
  if (st.isSymlink) await Deno.symlink(await Deno.readLink(src), dest);
  else if (st.isFile) await Deno.copyFile(src, dest);
  else return "gone";
  return "copied";
}

async function copyIntoWorktrees(
  repoPath: string,
  files: readonly string[],
  targets: readonly BootstrapTarget[],
): Promise<number> {
  const repo = { path: repoPath, real: await Deno.realPath(repoPath) };
  eprintln(
    `Copying ${files.length} ignored file(s) selected by ${WORKTREE_INCLUDE} / [worktree] copy into ${targets.length} new worktree(s)...`,
  );
  const warned = new Set<string>();
  let copied = 0;
  for (const t of targets) {
    const wt = {
      path: t.worktreePath,
      real: await Deno.realPath(t.worktreePath),
    };
    const jobs = [...files];
    const worker = async () => {
      for (let rel = jobs.shift(); rel !== undefined; rel = jobs.shift()) {
        let out: CopyOutcome;
        try {
          out = await copyOne(repo, wt, rel);
        } catch (e) {
          eprintln(
            `warning: cannot copy ${rel} into ${t.branch}: ${
              (e as Error).message
            }`,
          );
          continue;
        }
        if (out === "copied") copied++;
        if (out === "outside" && !warned.has(rel)) {
          warned.add(rel);
          eprintln(
            `warning: not copying ${rel}: it is a link leading out of the repository`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }
  return targets.length ? Math.round(copied / targets.length) : 0;
}

async function runSetups(
  repo: string,
  targets: readonly BootstrapTarget[],
  steps: readonly string[][],
  opts: BootstrapOptions,
): Promise<SetupFailure[]> {
  const failures: SetupFailure[] = [];
  const dir = brokerDataDir(opts.session);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  const timeoutMs = opts.config.worktree.setup_timeout_seconds * 1000;
  const queue = [...targets];
  const worker = async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const log = setupLogPath(opts.session, t.agentId);
      eprintln(`Setting up ${t.branch}...`);
      const env: Record<string, string> = {
        GIT_PAW_SESSION: opts.session,
        GIT_PAW_AGENT_ID: t.agentId,
        GIT_PAW_BRANCH: t.branch,
        GIT_PAW_REPO: repo,
        GIT_PAW_WORKTREE: t.worktreePath,
        ...(t.ports ? portEnv(t.ports) : {}),
      };
      let ms = 0;
      let failed: string | null = null;
      for (const [i, argv] of steps.entries()) {
        const r = await runToLog(argv, {
          cwd: t.worktreePath,
          env,
          log,
          append: i > 0,
          timeoutMs,
        });
        ms += r.ms;
        if (r.code !== 0) {
          failed = r.timedOut
            ? `\`${
              argv.join(" ")
            }\` ran longer than ${opts.config.worktree.setup_timeout_seconds}s`
            : r.code === 127
            ? `\`${argv[0]}\` could not be run (exit 127)`
            : `\`${argv.join(" ")}\` exited with code ${r.code}`;
          break;
        }
      }
      if (failed) {
        failures.push({
          branch: t.branch,
          agentId: t.agentId,
          log,
          detail: failed,
        });
        eprintln(
          `warning: setup of agent '${t.agentId}' (${t.branch}) failed: ${failed}; see ${log}. Its CLI starts anyway.`,
        );
      } else {
        eprintln(`  ...${t.branch} set up (${(ms / 1000).toFixed(1)}s)`);
      }
    }
  };
  const n = Math.max(1, Math.min(opts.concurrency ?? 4, targets.length));
  await Promise.all(Array.from({ length: n }, worker));
  return failures;
}
