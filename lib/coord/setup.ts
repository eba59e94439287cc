/**
 * Per-worktree preparation for an agent: the AGENTS.md managed block, the
 * agent marker and the git hooks — and the undo of each. The session code
 * calls these; see `agents_md.ts`, `hooks.ts` and `marker.ts` for how each
 * piece stays out of `git status`.
 * Needs `--allow-read`, `--allow-write`, `--allow-run=git`.
 * @module
 */
import {
  type ApprovalsMode,
  resolveApprovalsMode,
} from "../core/approval_hooks.ts";
import { join, relative, resolve } from "node:path";
import type { Config } from "../core/config.ts";
import type { AgentPlan } from "../core/agent_plan.ts";
import { AppError } from "../core/errors.ts";
import { eprintln } from "../output.ts";
import {
  addSharedExcludes,
  removeSharedExcludes,
  sharedExcludes,
} from "./_exclude.ts";
import {
  gitCommonDir,
  gitDir,
  gitDirs,
  gitDirsFromLayout,
  trackedPaths,
} from "../adapters/git_layout.ts";
import { worktreeList } from "../adapters/git.ts";
import { statOrNull } from "../adapters/fs.ts";
import {
  AGENTS_MD,
  type AgentsMdState,
  renderAgentsBlock,
  repoAgentsMdVisible,
  restoreWorktreeAgentsMd,
  setSkipWorktree,
  stripRepoAgentsMd,
  writeAgentsMdFile,
} from "./agents_md.ts";
import {
  EXPECTED_REF_FILE,
  HOOK_NAMES,
  hooksDir,
  installHooksInto,
  readHooksPath,
  removeHooksFrom,
} from "./hooks.ts";
import {
  type AgentMarker,
  anyMarker,
  CURSOR_FILE,
  MARKER_FILE,
  readMarker,
  readMarkerFile,
  removeMarker,
} from "./marker.ts";
import {
  renderSkill,
  resolveSkillTemplate,
  skillContextFromConfig,
  type SkillFileCache,
} from "./skills.ts";
import {
  agentKeyOption,
  BROKER_AUTH_HEADER,
  withAgentKey,
  withBrokerAuth,
} from "./boot_block.ts";
import { agentKeyPath, ensureAgentKey, removeAgentKey } from "./credentials.ts";
import { join as shJoin } from "shlex";
import {
  type CliProfile,
  type Json,
  withHelper,
} from "../core/cli_profiles.ts";
import { selfArgv } from "../adapters/self.ts";
import {
  applyCliFile,
  type CliFileRecord,
  planCliFiles,
  restoreCliFile,
} from "./cli_files.ts";
import { trustGeminiWorktree, untrustGeminiWorktree } from "./gemini_trust.ts";
import { readTextOrNull } from "../adapters/fs.ts";

/** What the session knows about one agent when preparing its worktree. */
export type AgentSetup = {
  /** Repo root (main checkout). */
  repo: string;
  /** Project name (basename of the repo root). */
  project: string;
  /** The agent: branch, id, worktree, CLI and its profile. */
  agent: AgentPlan;
  /** Broker URL, or null when the broker is off. */
  brokerUrl: string | null;
  /**
   * The broker wants a bearer token (it listens beyond loopback). With
   * {@link brokerToken} the token goes into the agent's key file, which the
   * curl recipes send; without it they send `$GIT_PAW_BROKER_TOKEN`.
   */
  brokerAuth?: boolean;
  /** The session's bearer token, written into the agent's key file. */
  brokerToken?: string;
  /** Agent ids of the other agents in the session. */
  peers: string[];
  config: Config;
  /** Supervisor session (stricter ownership wording). */
  supervisor?: boolean;
  /** Spec prompt for this agent, shown under `### Spec`. */
  specPrompt?: string | null;
  /** Files this agent owns, shown under `### File Ownership`. */
  ownedFiles?: string[];
  /** Where warnings go (default: stderr). */
  warn?: (line: string) => void;
  /** argv that runs git-paw from the hooks (default: `selfArgv()`). */
  hookSelf?: string[];
  /** HOME whose CLI config git-paw may touch (Gemini trust; default `$HOME`). */
  home?: string;
  /**
   * The session's resolved `[approvals] mode` (default: the config's, else
   * `queue` for a supervisor session, `pane` otherwise).
   */
  approvalsMode?: ApprovalsMode;
};

/** The helper command the agent's CLI is told to run. */
export function agentHelper(opts: AgentSetup, profile: CliProfile): string {
  return profile.absoluteHelper
    ? shJoin(opts.hookSelf ?? selfArgv())
    : "git paw";
}

/** The folder holding `.gemini/` (`GEMINI_CLI_HOME`, else HOME). */
function geminiHome(opts: AgentSetup): string {
  return opts.home ?? Deno.env.get("GEMINI_CLI_HOME") ??
    Deno.env.get("HOME") ?? "";
}

/**
 * `permissions.defaultMode` of the user's Claude settings
 * (`$CLAUDE_CONFIG_DIR/settings.json`, else `~/.claude/settings.json`), or
 * undefined (none, unreadable, not a string).
 */
async function claudeUserDefaultMode(
  opts: AgentSetup,
): Promise<string | undefined> {
  const dir = Deno.env.get("CLAUDE_CONFIG_DIR") ??
    join(opts.home ?? Deno.env.get("HOME") ?? "", ".claude");
  const text = await readTextOrNull(join(dir, "settings.json")).catch(() =>
    null
  );
  if (text === null) return undefined;
  try {
    const mode = JSON.parse(text)?.permissions?.defaultMode;
    return typeof mode === "string" && mode !== "" ? mode : undefined;
  } catch {
    return undefined;
  }
}

/** The entries of the `[clis.NAME] settings_path` file, or null. */
async function extraSettings(
  opts: AgentSetup,
): Promise<{ [key: string]: Json } | null> {
  const name = opts.agent.cli.trim().split(/\s+/)[0] ?? "";
  const path = Object.hasOwn(opts.config.clis, name)
    ? opts.config.clis[name]?.settings_path
    : null;
  if (!path) return null;
  const abs = resolve(
    opts.repo,
    path.replace(/^~(?=\/)/, Deno.env.get("HOME") ?? "~"),
  );
  const text = await readTextOrNull(abs);
  if (text === null) {
    throw new AppError(
      `Config error: cannot read settings_path ${abs} of [clis.${name}]: no such file`,
      "config",
    );
  }
  try {
    const v = JSON.parse(text);
    if (v && typeof v === "object" && !Array.isArray(v)) return v;
  } catch { /* below */ }
  throw new AppError(
    `Config error: cannot parse settings_path ${abs} of [clis.${name}]: not a JSON object`,
    "config",
  );
}

/**
 * Undo the previous setup's per-CLI files, then write this one's: the
 * instruction file importing AGENTS.md, the local settings with the
 * pre-allow rules and hooks, and git-paw's MCP server (agent mode) in the
 * CLI's MCP config. Returns the records for the marker.
 */
export async function writeCliFiles(
  opts: AgentSetup,
  profile: CliProfile,
  dirs: { gitDir: string; commonDir: string },
  previous: CliFileRecord[],
): Promise<Omit<CliFileRecord, "hidden">[]> {
  const keyOption = agentKeyOption(agentKeyPath(dirs.gitDir));
  const gitDir = dirs.gitDir;
  for (const rec of [...previous].reverse()) {
    await restoreCliFile(opts.agent.worktree, rec);
  }
  const self = opts.hookSelf ?? selfArgv();
  const plans = planCliFiles(profile, {
    cliName: profile.name,
    helperCommand: agentHelper(opts, profile),
    selfArgv: self,
    mcpArgv: [...self, "mcp", "--agent"],
    selfCommand: shJoin(self),
    worktreePath: opts.agent.worktree,
    geminiUserPolicies: join(geminiHome(opts), ".gemini", "policies"),
    ...(profile.name === "claude"
      ? { claudeUserDefaultMode: await claudeUserDefaultMode(opts) }
      : {}),
    gitWritableRoots: [
      ...new Set([
        resolve(dirs.gitDir),
        ...["objects", "refs", "logs"].map((d) =>
          join(resolve(dirs.commonDir), d)
        ),
      ]),
    ],
    brokerUrl: opts.brokerUrl,
    authHeader: opts.brokerAuth && !opts.brokerToken
      ? `${keyOption} ${BROKER_AUTH_HEADER}`
      : keyOption,
    extraSettings: await extraSettings(opts),
    ...(opts.brokerUrl
      ? {
        approvals: {
          mode: opts.approvalsMode ??
            resolveApprovalsMode(opts.config.approvals.mode, {
              supervisor: opts.supervisor ?? false,
            }),
          timeoutSeconds: opts.config.approvals.timeout_seconds,
        },
      }
      : {}),
  });
  const out: Omit<CliFileRecord, "hidden">[] = [];
  for (const plan of plans) {
    const r = await applyCliFile(
      opts.agent.worktree,
      plan,
      join(gitDir, "paw-cli-files"),
    );
    if (r) out.push(r);
  }
  return out;
}

/**
 * Write the AGENTS.md block, the agent marker and (broker on) the hooks for
 * one agent worktree. Idempotent: running it again (e.g. on resume) rewrites
 * the same state. Same as {@link setupAgentWorktrees} with one agent.
 */
export async function setupAgentWorktree(opts: AgentSetup): Promise<void> {
  await setupAgentWorktrees([opts]);
}

/** What the per-worktree phase of a batch leaves for the shared phase. */
type Prepared = {
  opts: AgentSetup;
  gitDir: string;
  commonDir: string;
  /** Warnings to print, in order, before the note about the repo file. */
  warnings: string[];
  agentsMd: AgentsMdState;
  /** Patterns for the shared exclude, in the order setup adds them. */
  excludes: string[];
  marker: AgentMarker;
};

/**
 * Prepare several agent worktrees at once; the result is the same as
 * {@link setupAgentWorktree} for each in list order. Work inside one
 * worktree (its AGENTS.md, index, marker, in-worktree hooks) runs
 * concurrently; what the worktrees share — the exclude block in
 * `<git-common-dir>/info/exclude` and a shared hooks dir — is written once
 * for the batch. `core.hooksPath` is read once. When an agent fails, the
 * others are still completed and the first failure (in list order) is thrown.
 */
export async function setupAgentWorktrees(list: AgentSetup[]): Promise<void> {
  if (list.length === 0) return;
  if (new Set(list.map((o) => resolve(o.agent.worktree))).size < list.length) {
    // The same worktree twice: only in-order runs give the serial result.
    for (const o of list) await setupAgentWorktrees([o]);
    return;
  }
  const withHooks = list.filter((o) => o.brokerUrl);
  const hooksPath = withHooks.length
    ? readHooksPath(withHooks[0].agent.worktree).catch(() =>
      readHooksPath(withHooks[0].repo)
    )
    : Promise.resolve("");
  // A shared hooks dir is written once, with the argv of the last agent
  // that uses it (what in-order setups would leave behind).
  const sharedHooks = new Map<string, Promise<unknown>>();
  const sharedSelf = new Map<string, string[] | undefined>();
  const wheres = withHooks.map(async (o) => {
    const where = await hooksDir(o.agent.worktree, {
      hooksPath: await hooksPath,
    });
    if (!where.perWorktree) sharedSelf.set(where.dir, o.hookSelf);
    return where;
  });
  // Awaited by each agent's own setup, unless that failed before.
  for (const w of wheres) w.catch(() => {});
  const whereOf = new Map(withHooks.map((o, i) => [o, wheres[i]]));
  const installShared = async (dir: string) => {
    await Promise.allSettled(wheres); // every agent has named its argv
    return installHooksInto(dir, { self: sharedSelf.get(dir) });
  };
  const skillFiles: SkillFileCache = new Map();
  const prepare = async (opts: AgentSetup): Promise<Prepared> => {
    const layout = await gitDirsFromLayout(opts.agent.worktree);
    const { gitDir, commonDir } = layout ?? await gitDirs(opts.agent.worktree);
    const previous = await readMarkerFile(join(gitDir, MARKER_FILE));
    const profile = opts.agent.profile;
    // The agent's own credential, before anything names its file.
    await ensureAgentKey(
      gitDir,
      opts.brokerToken ? { token: opts.brokerToken } : {},
    );
    const block = await renderBlock(opts, skillFiles, agentKeyPath(gitDir));
    if (profile.absoluteHelper) {
      block.body = withHelper(block.body, agentHelper(opts, profile));
    }
    const { created } = await writeAgentsMdFile({
      repo: opts.repo,
      worktreePath: opts.agent.worktree,
      body: block.body,
      previous: previous?.agents_md ?? null,
    });
    let inWorktree: string[] = [];
    const where = whereOf.get(opts);
    if (where) {
      const w = await where;
      if (w.perWorktree) {
        const touched = await installHooksInto(w.dir, { self: opts.hookSelf });
        inWorktree = [
          ...new Set([...touched, ...HOOK_NAMES.map((n) => join(w.dir, n))]),
        ].map((p) => relative(w.top, p));
      } else {
        let p = sharedHooks.get(w.dir);
        if (!p) sharedHooks.set(w.dir, p = installShared(w.dir));
        await p;
      }
    }
    const cliFiles = await writeCliFiles(
      opts,
      profile,
      { gitDir, commonDir },
      previous?.cli_files ?? [],
    );
    const trust = profile.trust === "gemini-trusted-folders"
      ? await trustGeminiWorktree({
        home: geminiHome(opts),
        file: opts.home
          ? undefined
          : Deno.env.get("GEMINI_CLI_TRUSTED_FOLDERS_PATH"),
        repo: await Deno.realPath(opts.repo).catch(() => opts.repo),
        worktree: await Deno.realPath(opts.agent.worktree).catch(() =>
          opts.agent.worktree
        ),
      }).catch(() => null) ?? previous?.gemini_trust
      : undefined;
    if (!trust && previous?.gemini_trust) {
      await untrustGeminiWorktree(previous.gemini_trust);
    }
    const tracked = await trackedPaths(opts.agent.worktree, [
      AGENTS_MD,
      ...inWorktree,
      ...cliFiles.map((f) => f.path),
    ], layout ?? undefined);
    const hookPaths = new Set(previous?.hook_paths ?? []);
    const skip: string[] = [];
    const excludes: string[] = [];
    const mdTracked = tracked.has(AGENTS_MD);
    if (mdTracked) skip.push(AGENTS_MD);
    else excludes.push(`/${AGENTS_MD}`);
    for (const rel of inWorktree) {
      if (tracked.has(rel)) {
        skip.push(rel);
        hookPaths.add(rel);
      } else excludes.push(`/${rel}`);
    }
    const records: CliFileRecord[] = cliFiles.map((f) => {
      const hidden = tracked.has(f.path) ? "skip-worktree" : "exclude";
      if (hidden === "skip-worktree") skip.push(f.path);
      else excludes.push(`/${f.path}`);
      return { ...f, hidden };
    });
    await setSkipWorktree(opts.agent.worktree, skip, true);
    const agentsMd: AgentsMdState = mdTracked
      ? { mode: "skip-worktree", created: false }
      : { mode: "exclude", created };
    const marker: AgentMarker = {
      version: 1,
      agent_id: opts.agent.agentId,
      expected_branch: opts.agent.branch,
      broker_url: opts.brokerUrl,
      strict_branch_guard: opts.config.supervisor.strict_branch_guard,
      timestamp: new Date().toISOString(),
      repo: opts.repo,
      agents_md: { mode: agentsMd.mode, created: agentsMd.created },
      hook_paths: [...hookPaths],
      cli_files: records,
      ...(trust ? { gemini_trust: trust } : {}),
    };
    return {
      opts,
      gitDir,
      commonDir,
      warnings: block.lines,
      agentsMd,
      excludes,
      marker,
    };
  };
  // Whether the repo's own AGENTS.md shows in `git status`, asked before
  // this batch touches the shared exclude (no git call when it is absent).
  const repoVisible = new Map<string, Promise<boolean>>();
  for (const o of list) {
    if (o.repo !== o.agent.worktree && !repoVisible.has(o.repo)) {
      const p = repoAgentsMdVisible(o.repo);
      p.catch(() => {}); // awaited (and reported) below when it matters
      repoVisible.set(o.repo, p);
    }
  }
  const settled = await Promise.allSettled(list.map(prepare));
  const done = settled.flatMap((r) =>
    r.status === "fulfilled" ? [r.value] : []
  );
  // Shared phase, in list order. The note about the repo's own AGENTS.md
  // goes to the first agent that excludes it, as in-order setups would
  // (after that the file is excluded already); checked before writing.
  const noted = new Set<string>();
  for (const p of done) {
    const warn = p.opts.warn ?? eprintln;
    for (const line of p.warnings) warn(line);
    if (
      p.agentsMd.mode === "exclude" && p.opts.repo !== p.opts.agent.worktree &&
      !noted.has(p.opts.repo)
    ) {
      noted.add(p.opts.repo);
      if (await repoVisible.get(p.opts.repo)) {
        warn(
          `note: ${p.opts.repo}/AGENTS.md is untracked; git status will not list it while agent worktrees exist (git-paw excludes /AGENTS.md in the repo's info/exclude)`,
        );
      }
    }
  }
  const byCommon = new Map<string, string[]>();
  for (const p of done) {
    const acc = byCommon.get(p.commonDir) ?? [];
    byCommon.set(p.commonDir, [...acc, ...p.excludes]);
  }
  for (const [common, patterns] of byCommon) {
    if (patterns.length) await addSharedExcludes(common, patterns);
  }
  await Promise.all(done.map(async (p) => {
    await Deno.writeTextFile(
      join(p.gitDir, MARKER_FILE),
      JSON.stringify(p.marker, null, 2) + "\n",
    );
    const refFile = join(p.gitDir, EXPECTED_REF_FILE);
    if (p.marker.strict_branch_guard) {
      await Deno.writeTextFile(refFile, `refs/heads/${p.opts.agent.branch}\n`);
    } else await removeIfPresent(refFile);
  }));
  const failed = settled.find((r) => r.status === "rejected");
  if (failed) throw (failed as PromiseRejectedResult).reason;
}

/** The agent's AGENTS.md block body and the skill's warnings. */
async function renderBlock(
  opts: AgentSetup,
  skillFiles: SkillFileCache,
  keyFile: string,
): Promise<{ body: string; lines: string[] }> {
  const lines: string[] = [];
  let skill: string | null = null;
  if (opts.brokerUrl) {
    const { template, source } = await resolveSkillTemplate("coordination", [
      opts.agent.worktree,
      opts.repo,
    ], skillFiles);
    const rendered = renderSkill(
      template,
      skillContextFromConfig(opts.config, {
        branchId: opts.agent.agentId,
        projectName: opts.project,
        brokerUrl: opts.brokerUrl,
      }),
    );
    for (const w of rendered.warnings) {
      lines.push(`warning: ${w}${source === "embedded" ? "" : ` (${source})`}`);
    }
    // Every curl recipe sends the agent's key file (and so the token).
    skill = withAgentKey(
      opts.brokerAuth && !opts.brokerToken
        ? withBrokerAuth(rendered.text)
        : rendered.text,
      keyFile,
    );
  }
  const body = renderAgentsBlock({
    branch: opts.agent.branch,
    agentId: opts.agent.agentId,
    cli: opts.agent.cli,
    peers: opts.peers,
    brokerOn: opts.brokerUrl !== null,
    supervisor: opts.supervisor,
    specPrompt: opts.specPrompt,
    ownedFiles: opts.ownedFiles,
    skill,
  });
  return { body, lines };
}

async function removeIfPresent(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}

/** Remove the shared exclude block once no agent worktree is left. */
async function dropSharedStateIfUnused(cwd: string): Promise<void> {
  const common = await gitCommonDir(cwd);
  if (!(await anyMarker(common))) await removeSharedExcludes(common);
}

/**
 * Undo {@link setupAgentWorktree} for a worktree that stays on disk: strip
 * the AGENTS.md block (or remove the file git-paw created), clear
 * skip-worktree bits, remove in-worktree hooks, the marker, the agent key and the inbox
 * cursor. Shared hooks stay until {@link removeSessionHooks}.
 */
export async function teardownAgentWorktree(
  opts: { repo: string; worktreePath: string },
): Promise<void> {
  if (!await statOrNull(opts.worktreePath)) {
    // Already gone: only the repo-wide leftovers may need cleaning.
    await dropSharedStateIfUnused(opts.repo);
    return;
  }
  const marker = await readMarker(opts.worktreePath);
  for (const rec of [...marker?.cli_files ?? []].reverse()) {
    await restoreCliFile(opts.worktreePath, rec);
    if (rec.hidden === "skip-worktree") {
      await setSkipWorktree(opts.worktreePath, rec.path, false);
    }
  }
  if (marker?.gemini_trust) await untrustGeminiWorktree(marker.gemini_trust);
  await restoreWorktreeAgentsMd({
    repo: opts.repo,
    worktreePath: opts.worktreePath,
    state: marker?.agents_md ?? null,
  });
  const where = await hooksDir(opts.worktreePath);
  if (where.perWorktree) await removeHooksFrom(where.dir);
  for (const rel of marker?.hook_paths ?? []) {
    await setSkipWorktree(opts.worktreePath, rel, false);
  }
  await removeMarker(opts.worktreePath);
  const dir = await gitDir(opts.worktreePath);
  await removeIfPresent(join(dir, EXPECTED_REF_FILE));
  await removeIfPresent(join(dir, CURSOR_FILE));
  await removeAgentKey(dir);
  await dropSharedStateIfUnused(opts.worktreePath);
}

/**
 * Of `ignored` — the paths git ignores in the agent worktree at
 * `worktreePath`, worktree-relative (`worktreeFiles`) — the ones that are the
 * user's, which removing the worktree must not delete unasked. git-paw's own
 * are left out: every path of git-paw's exclude block (the in-worktree
 * hooks, AGENTS.md, the per-CLI files) — but AGENTS.md and a per-CLI file
 * only when setup created it (its marker says so): a user's untracked file
 * that the block hides stays theirs.
 * A directory ignored as a whole (`node_modules/`) is the user's.
 */
export async function userIgnoredFiles(
  worktreePath: string,
  ignored: string[],
): Promise<string[]> {
  if (ignored.length === 0) return [];
  const [marker, common] = await Promise.all([
    readMarker(worktreePath),
    gitCommonDir(worktreePath),
  ]);
  const ours = new Set(
    (await sharedExcludes(common)).map((p) => p.replace(/^\//, "")),
  );
  if (!marker?.agents_md.created) ours.delete(AGENTS_MD);
  for (const f of marker?.cli_files ?? []) {
    if (!f.created) ours.delete(f.path);
  }
  return ignored.filter((p) => !ours.has(p));
}

/**
 * Undo what setup changed outside the worktree (Gemini's trust entry in
 * HOME), before the worktree and its marker are deleted (remove, purge).
 */
export async function releaseOutsideState(worktreePath: string): Promise<void> {
  const marker = await readMarker(worktreePath).catch(() => null);
  if (marker?.gemini_trust) await untrustGeminiWorktree(marker.gemini_trust);
}

/**
 * Strip the git-paw block (plus one adjacent blank line) from the repo-root
 * AGENTS.md (stop/purge).
 */
export async function stripRepoAgentsBlock(repo: string): Promise<void> {
  // A supervisor session's files in the repo root (its CLI's files).
  const { teardownSupervisorRoot } = await import("./supervisor_root.ts");
  await teardownSupervisorRoot(repo);
  await stripRepoAgentsMd(repo);
  await dropSharedStateIfUnused(repo);
}

/**
 * Remove git-paw's hooks (purge): from the shared hooks dir, or from each
 * remaining agent worktree when `core.hooksPath` is relative. User hooks
 * that were moved aside are put back.
 */
export async function removeSessionHooks(repo: string): Promise<void> {
  const where = await hooksDir(repo);
  if (!where.perWorktree) {
    await removeHooksFrom(where.dir);
  } else {
    for (const { path: wt } of await worktreeList(repo)) {
      if (!(await readMarker(wt).catch(() => null))) continue;
      const own = await hooksDir(wt);
      if (own.perWorktree) await removeHooksFrom(own.dir);
    }
  }
  await dropSharedStateIfUnused(repo);
}
