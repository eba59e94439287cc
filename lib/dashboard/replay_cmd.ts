/**
 * `git paw replay [BRANCH] [--list] [--color] [--session NAME] [--json]`.
 * @module
 */
import { basename, dirname } from "node:path";
import { repoRoot } from "../adapters/git.ts";
import { gitCommonDir } from "../adapters/git_layout.ts";
import { eprintln, printJson, println } from "../output.ts";
import { UsageError } from "../core/errors.ts";
import {
  listLogSessions,
  type LogSession,
  matchLog,
  pickLogSession,
  replayLog,
  type ReplayLogOptions,
} from "./replay.ts";

/** Parsed `replay` arguments. */
export type ReplayCommandOptions = {
  branch?: string;
  list?: boolean;
  color?: boolean;
  session?: string;
  json?: boolean;
  /** Repo root (default: the main checkout of the repo around the cwd). */
  repo?: string;
  /** Output seams for tests. */
  out?: ReplayLogOptions["out"];
  warn?: ReplayLogOptions["warn"];
  pathVar?: string;
};

/**
 * The main checkout of the repo around `cwd`: logs live there even when
 * replay runs inside an agent's worktree.
 */
async function mainRepoRoot(cwd: string = Deno.cwd()): Promise<string> {
  const top = await repoRoot(cwd);
  const common = await gitCommonDir(top);
  return basename(common) === ".git" ? dirname(common) : top;
}

function plural(n: number): string {
  return `${n} ${n === 1 ? "branch" : "branches"}`;
}

/** JSON shape of one session in `replay --list --json`. */
function sessionJson(s: LogSession) {
  return {
    session: s.name,
    dir: s.dir,
    modified: s.modifiedMs ? new Date(s.modifiedMs).toISOString() : null,
    logs: s.logs.map((l) => ({
      file: l.file,
      branch: l.branch,
      path: l.path,
      bytes: l.bytes,
    })),
  };
}

/** Run `replay`. */
export async function replayCommand(o: ReplayCommandOptions): Promise<void> {
  if (o.json && !o.list && o.branch !== undefined) {
    throw new UsageError("--json applies to --list (a log is printed as text)");
  }
  if (o.list && o.branch !== undefined) {
    throw new UsageError("give either a branch or --list, not both");
  }
  if (o.list && o.color) {
    throw new UsageError("--color applies to replaying a log, not to --list");
  }
  const repo = o.repo ?? await mainRepoRoot();
  const sessions = await listLogSessions(repo);
  const chosen = pickLogSession(sessions, o.session);
  if (o.list || o.branch === undefined) {
    // Without --session every session is listed, newest (the default) first.
    const shown = o.session !== undefined ? [chosen] : sessions;
    if (o.json) {
      printJson({ sessions: shown.map(sessionJson) });
      return;
    }
    shown.forEach((s, i) => {
      if (i > 0) println();
      println(`${s.name} (${plural(s.logs.length)})`);
      for (const l of s.logs) println(`  ${l.file}  →  ${l.branch}`);
    });
    if (!o.list) {
      eprintln("Replay one with: git paw replay <branch> [--session <name>]");
    }
    return;
  }
  const log = matchLog(chosen, o.branch);
  await replayLog(log, {
    color: o.color,
    ...(o.out ? { out: o.out } : {}),
    ...(o.warn ? { warn: o.warn } : {}),
    ...(o.pathVar !== undefined ? { pathVar: o.pathVar } : {}),
  });
}
