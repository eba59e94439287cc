/**
 * git hooks for agent worktrees (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"): `post-commit` publishes the
 * commit, `pre-push` refuses, `pre-commit` guards the branch.
 *
 * Install: where git runs hooks — `core.hooksPath` (relative ⇒ inside each
 * worktree) else `<git-common-dir>/hooks`, shared by every worktree. Each
 * hook file becomes a small sh wrapper (our code between
 * `# >>> git-paw managed hook >>>` / `# <<< git-paw managed hook <<<`) that
 * does nothing unless the worktree's git dir holds a marker
 * (`paw-agent-id`), then runs the user's own hook, which was moved aside to
 * `<hook>.git-paw-user` (any language, untouched, `"$@"` and stdin passed
 * through). The wrapper runs git-paw through the argv baked in at install
 * time (`selfArgv()`), so hooks work when git-paw is not on PATH.
 *
 * Needs `--allow-read`, `--allow-write`, `--allow-run=git`, and
 * `--allow-net=127.0.0.1` for {@link runHook}.
 * @module
 */
import { isAbsolute, join, resolve } from "node:path";
import { AppError, errorText } from "../core/errors.ts";
import { selfArgv } from "../adapters/self.ts";
import {
  gitCommonDir,
  gitDir,
  gitDirsFromLayout,
  worktreeTop,
} from "../adapters/git_layout.ts";
import { gitText, gitTry } from "../adapters/git_run.ts";
import { withLock } from "./_lock.ts";
import { readTextOrNull } from "../adapters/fs.ts";
import {
  type BlockMarkers,
  hasBlock,
  removeBlock,
} from "../core/managed_block.ts";
import { readMarker } from "./marker.ts";

/** Hooks git-paw installs. */
export const HOOK_NAMES = ["pre-commit", "post-commit", "pre-push"] as const;
/** One of {@link HOOK_NAMES}. */
export type HookName = typeof HOOK_NAMES[number];

/** Opening line of git-paw's part of a hook file. */
export const HOOK_BLOCK_START = "# >>> git-paw managed hook >>>";
/** Closing line of git-paw's part of a hook file. */
const HOOK_BLOCK_END = "# <<< git-paw managed hook <<<";
const HOOK_MARKERS: BlockMarkers = {
  begin: HOOK_BLOCK_START,
  end: HOOK_BLOCK_END,
};
/** Suffix of a user's hook moved aside by git-paw. */
export const USER_HOOK_SUFFIX = ".git-paw-user";

/** The refusal printed by pre-push in an agent worktree. */
export const PUSH_REFUSAL =
  "error: git-paw agents must not push. The supervisor handles merges.";

/**
 * Sidecar next to the marker holding `refs/heads/<expected branch>`; present
 * only while the strict branch guard is on (read by the sh pre-commit).
 */
export const EXPECTED_REF_FILE = "paw-expected-ref";

/** How long a hook waits for the broker before giving up. */
const HOOK_PUBLISH_TIMEOUT_MS = 1500;

/** Quote one word for POSIX sh. */
function shQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The whole hook file for `name`: git-paw's block, then a hand-over to the
 * user's moved-aside hook. `self` is the argv that runs git-paw. Pure.
 */
function renderHookScript(name: HookName, self: string[]): string {
  const run = [...self, "__hook", name].map(shQuote).join(" ");
  const body: string[] = [];
  switch (name) {
    case "pre-push":
      body.push(
        `  echo ${shQuote(PUSH_REFUSAL)} >&2`,
        "  exit 1",
      );
      break;
    case "pre-commit":
      // The common case (right branch) costs one git call and no git-paw
      // start-up; only a mismatch runs git-paw for the full message.
      body.push(
        `  if [ -f "$paw_git_dir/${EXPECTED_REF_FILE}" ]; then`,
        `    paw_expected=$(cat "$paw_git_dir/${EXPECTED_REF_FILE}")`,
        "    paw_current=$(git symbolic-ref --quiet HEAD 2>/dev/null)",
        '    if [ "$paw_current" != "$paw_expected" ]; then',
        `      ${run} "$@"`,
        "      paw_status=$?",
        '      if [ "$paw_status" -eq 1 ]; then exit 1; fi',
        '      if [ "$paw_status" -ne 0 ]; then echo "git-paw: branch guard could not run (exit $paw_status); continuing" >&2; fi',
        "    fi",
        "  fi",
      );
      break;
    case "post-commit":
      body.push(`  ${run} "$@" || true`);
      break;
  }
  return [
    "#!/bin/sh",
    HOOK_BLOCK_START,
    `# git-paw ${name} hook for agent worktrees; \`git paw purge\` removes it.`,
    "# Worktrees without a git-paw marker (e.g. the main checkout) go straight",
    `# to the user's own hook, kept as ${name}${USER_HOOK_SUFFIX}.`,
    "paw_git_dir=$(git rev-parse --git-dir 2>/dev/null)",
    'if [ -n "$paw_git_dir" ] && [ -f "$paw_git_dir/paw-agent-id" ]; then',
    ...body,
    "fi",
    `paw_user_hook="$(dirname "$0")/${name}${USER_HOOK_SUFFIX}"`,
    'if [ -x "$paw_user_hook" ]; then exec "$paw_user_hook" "$@"; fi',
    HOOK_BLOCK_END,
    "",
  ].join("\n");
}

/**
 * `core.hooksPath` as git sees it from `cwd` (`~` expanded), or "" when
 * unset. One git call; a batch of setups reads it once.
 */
export async function readHooksPath(cwd: string): Promise<string> {
  const r = await gitTry(cwd, ["config", "--path", "--get", "core.hooksPath"]);
  return r.code === 0 ? r.stdout.replace(/\n$/, "") : "";
}

/**
 * Where git runs hooks for the worktree at `cwd`. `opts.hooksPath` is the
 * value of `core.hooksPath` when the caller already read it
 * ({@link readHooksPath}). `top` is the worktree top, looked up only for a
 * relative `core.hooksPath` (`perWorktree`); otherwise it is `cwd`.
 */
export async function hooksDir(
  cwd: string,
  opts: { hooksPath?: string } = {},
): Promise<{ dir: string; perWorktree: boolean; top: string }> {
  const configured = opts.hooksPath ?? await readHooksPath(cwd);
  if (configured !== "" && !isAbsolute(configured)) {
    // Relative to the worktree top, where git runs hooks.
    const top = (await gitDirsFromLayout(cwd)) ? cwd : await worktreeTop(cwd);
    return { dir: join(top, configured), perWorktree: true, top };
  }
  if (configured !== "") {
    return { dir: configured, perWorktree: false, top: cwd };
  }
  return {
    dir: join(await gitCommonDir(cwd), "hooks"),
    perWorktree: false,
    top: cwd,
  };
}

const readOrNull = readTextOrNull;

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Install the three hooks into `dir`. A user hook already there is moved
 * aside once (never overwritten); a git-paw wrapper is rewritten in place.
 * Returns the paths (inside `dir`) that were created or changed.
 */
export function installHooksInto(
  dir: string,
  opts: { self?: string[] } = {},
): Promise<string[]> {
  return withLock(resolve(dir), () => installUnlocked(dir, opts.self));
}

async function installUnlocked(
  dir: string,
  selfOpt: string[] | undefined,
): Promise<string[]> {
  const self = selfOpt ?? selfArgv();
  await Deno.mkdir(dir, { recursive: true });
  const touched: string[] = [];
  for (const name of HOOK_NAMES) {
    const file = join(dir, name);
    const aside = file + USER_HOOK_SUFFIX;
    const current = await readOrNull(file);
    if (current !== null && !hasBlock(current, HOOK_MARKERS)) {
      if (await exists(aside)) {
        throw new AppError(
          `Cannot install the git-paw ${name} hook: both ${file} and ${aside} exist; merge them by hand`,
          "hook_conflict",
        );
      }
      try {
        await Deno.rename(file, aside);
        touched.push(aside);
      } catch (e) {
        // Another setup moved it a moment ago: that one keeps it safe.
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
    }
    const script = renderHookScript(name, self);
    if (current !== script) {
      await Deno.writeTextFile(file, script);
      touched.push(file);
    }
    await Deno.chmod(file, 0o755);
  }
  return touched;
}

/**
 * Remove git-paw's hooks from `dir`, putting each moved-aside user hook back.
 * A hook file with lines of its own outside our block keeps those lines.
 */
export async function removeHooksFrom(dir: string): Promise<void> {
  for (const name of HOOK_NAMES) {
    const file = join(dir, name);
    const aside = file + USER_HOOK_SUFFIX;
    const current = await readOrNull(file);
    if (current === null || !hasBlock(current, HOOK_MARKERS)) continue;
    const rest = removeBlock(current, HOOK_MARKERS);
    const meaningful = rest.split("\n").filter((l) =>
      l.trim() !== "" && !l.startsWith("#!")
    );
    if (meaningful.length === 0) {
      await Deno.remove(file);
      if (await exists(aside)) await Deno.rename(aside, file);
    } else {
      await Deno.writeTextFile(file, rest);
    }
  }
}

// ---------------------------------------------------------------------------
// What the hooks run: `git-paw __hook <name>`.

/** Output sinks for {@link runHook} (stderr only; hooks print no data). */
export type HookIo = { eprintln: (line: string) => void };

/**
 * Files changed by HEAD, NUL-safe: against its first parent (so a merge
 * lists what it brought in), or every file of a root commit.
 */
async function commitFiles(cwd: string): Promise<string[]> {
  const parent = await gitTry(cwd, ["rev-parse", "--verify", "-q", "HEAD^1"]);
  const range = parent.code === 0 ? ["HEAD^1", "HEAD"] : ["--root", "HEAD"];
  const out = await gitText(cwd, [
    "diff-tree",
    "--no-commit-id",
    "--name-only",
    "-r",
    "-z",
    ...range,
  ]);
  return [...new Set(out.split("\0").filter((p) => p !== ""))];
}

/** HEAD's branch (without `refs/heads/`), or null when detached. */
async function currentBranch(cwd: string): Promise<string | null> {
  const r = await gitTry(cwd, ["symbolic-ref", "--quiet", "HEAD"]);
  const ref = r.stdout.trim();
  if (r.code !== 0 || ref === "") return null;
  return ref.startsWith("refs/heads/") ? ref.slice("refs/heads/".length) : ref;
}

/** One publish from a hook: through the worktree's outbox, by `deadline`. */
async function post(
  url: string,
  body: unknown,
  opts: { io: HookIo; gitDir: string; deadline: number },
): Promise<boolean> {
  const { io } = opts;
  // The schemas load only when a hook publishes (not for `start`).
  const { parseMessage } = await import("../core/messages.ts");
  const parsed = parseMessage(body);
  if (!parsed.ok) {
    io.eprintln(`git-paw: not published: ${parsed.error.body.error}`);
    return false;
  }
  // The client loads only when a hook publishes, too.
  const { brokerClient, replyText, tokenFromEnv } = await import(
    "../broker/client.ts"
  );
  const { deliverThroughOutbox, newMsgId, outcomeOfStatus } = await import(
    "./outbox.ts"
  );
  const { readAgentKey } = await import("./credentials.ts");
  // The agent's key (a session broker wants it) and, when the broker is
  // bound beyond loopback, the session token: from the pane's environment,
  // else the key file (a commit made outside the pane).
  const cred = await readAgentKey(opts.gitDir);
  const client = brokerClient(url, {
    token: tokenFromEnv() ?? cred?.token,
    ...(cred ? { agentKey: cred.key } : {}),
  });
  const message = { ...parsed.message, msg_id: newMsgId() };
  const budgetMs = Math.max(0, opts.deadline - Date.now());
  const report = await deliverThroughOutbox(opts.gitDir, message, {
    budgetMs,
    sendTimeoutMs: HOOK_PUBLISH_TIMEOUT_MS,
    // A commit never waits for a flushing helper longer than this.
    lockWaitMs: Math.min(300, budgetMs),
    send: async (m, timeoutMs) => {
      try {
        const reply = await client.publish(m, { timeoutMs });
        return outcomeOfStatus(reply.status, replyText(reply));
      } catch (e) {
        const timedOut = (e as { timedOut?: boolean }).timedOut === true;
        return {
          kind: "retry",
          detail: timedOut
            ? `no answer within ${HOOK_PUBLISH_TIMEOUT_MS} ms`
            : "not reachable",
        };
      }
    },
  });
  for (const d of report.dropped) {
    io.eprintln(`git-paw: the broker refused a queued message, dropped: ${d}`);
  }
  const r = report.message;
  switch (r.kind) {
    case "delivered":
      return true;
    case "refused":
      io.eprintln(
        `git-paw: broker at ${url} refused the commit message (HTTP ${r.status}): ${r.detail}`,
      );
      return false;
    case "queued":
      io.eprintln(
        `git-paw: commit not published — broker at ${url} ${r.detail}; kept in the outbox (${report.waiting} waiting, the commit itself is fine)`,
      );
      return false;
    default:
      io.eprintln(
        `git-paw: commit not published — broker at ${url}: ${
          r.kind === "lost" ? r.detail : "nothing sent"
        } (the commit itself is fine)`,
      );
      return false;
  }
}

/**
 * Run hook `name` in the worktree at `cwd`; resolves to the hook's exit code.
 * Without a marker every hook is a no-op (exit 0). post-commit always exits
 * 0: a broker that is down costs at most {@link HOOK_PUBLISH_TIMEOUT_MS}
 * in all, and what it could not deliver waits in the worktree's outbox.
 */
export async function runHook(
  name: string,
  opts: { cwd: string; io: HookIo },
): Promise<number> {
  const { cwd, io } = opts;
  const marker = await readMarker(cwd);
  if (!marker) return 0;
  switch (name) {
    case "pre-push":
      io.eprintln(PUSH_REFUSAL);
      return 1;
    case "pre-commit": {
      if (!marker.strict_branch_guard) return 0;
      const branch = await currentBranch(cwd);
      if (branch === marker.expected_branch) return 0;
      io.eprintln(
        `error: git-paw branch guard: this worktree belongs to branch '${marker.expected_branch}' but HEAD is on ${
          branch === null ? "a detached HEAD" : `'${branch}'`
        }. Switch back with: git switch ${
          shQuote(marker.expected_branch)
        } — or set strict_branch_guard = false under [supervisor] in .git-paw/config.toml to allow this.`,
      );
      return 1;
    }
    case "post-commit": {
      if (!marker.broker_url) return 0;
      const deadline = Date.now() + HOOK_PUBLISH_TIMEOUT_MS;
      try {
        const own = await gitDir(cwd);
        const send = (body: unknown) =>
          post(marker.broker_url!, body, { io, gitDir: own, deadline });
        const files = await commitFiles(cwd);
        // The commit id lets the broker keep one artifact per commit when
        // the worktree watcher reports the same commit.
        const commit = (await gitText(cwd, ["rev-parse", "HEAD"])).trim();
        const ok = await send({
          type: "agent.artifact",
          agent_id: marker.agent_id,
          payload: {
            status: "committed",
            exports: [],
            modified_files: files,
            commit,
          },
        });
        const branch = await currentBranch(cwd);
        if (ok && branch !== marker.expected_branch) {
          await send({
            type: "agent.feedback",
            agent_id: marker.agent_id,
            payload: {
              from: "branch-guard",
              errors: [
                `You committed on ${
                  branch === null ? "a detached HEAD" : `'${branch}'`
                } but your branch is '${marker.expected_branch}'. Move the commit to '${marker.expected_branch}' and switch back.`,
              ],
            },
          });
        }
      } catch (e) {
        io.eprintln(
          `git-paw: post-commit hook skipped: ${errorText(e)}`,
        );
      }
      return 0;
    }
    default:
      io.eprintln(`git-paw: unknown hook '${name}'`);
      return 0;
  }
}
