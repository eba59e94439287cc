/**
 * Per-worktree preparation for an agent: the AGENTS.md managed block, the
 * agent marker and the git hooks — and the undo of each. The session code
 * calls these; see `agents_md.ts`, `hooks.ts` and `marker.ts` for how each
 * piece stays out of `git status`.
 * Needs `--allow-read`, `--allow-write`, `--allow-run=git`.
 * @module
 */
import { join } from "node:path";
import type { Config } from "../core/config.ts";
import { eprintln } from "../cli/output.ts";
import { addSharedExcludes, removeSharedExcludes } from "./_exclude.ts";
import { gitCommonDir, gitDir, isTracked, listWorktrees } from "./_git.ts";
import {
  renderAgentsBlock,
  restoreWorktreeAgentsMd,
  setSkipWorktree,
  stripRepoAgentsMd,
  writeWorktreeAgentsMd,
} from "./agents_md.ts";
import {
  EXPECTED_REF_FILE,
  hooksDir,
  installHooks,
  removeHooksFrom,
} from "./hooks.ts";
import {
  type AgentMarker,
  anyMarker,
  readMarker,
  removeMarker,
  writeMarker,
} from "./marker.ts";
import {
  renderSkill,
  resolveSkillTemplate,
  skillContextFromConfig,
} from "./skills.ts";
import { CURSOR_FILE } from "./helper.ts";

/** What the session knows about one agent when preparing its worktree. */
export type AgentSetup = {
  /** Repo root (main checkout). */
  repo: string;
  /** Project name (basename of the repo root). */
  project: string;
  /** Absolute worktree path. */
  worktreePath: string;
  /** Branch, verbatim. */
  branch: string;
  /** slugify(branch). */
  agentId: string;
  /** CLI name as chosen (e.g. "claude", "demo"). */
  cli: string;
  /** Broker URL, or null when the broker is off. */
  brokerUrl: string | null;
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
};

/**
 * Write the AGENTS.md block, the agent marker and (broker on) the hooks for
 * one agent worktree. Idempotent: running it again (e.g. on resume) rewrites
 * the same state.
 */
export async function setupAgentWorktree(opts: AgentSetup): Promise<void> {
  const warn = opts.warn ?? eprintln;
  const previous = await readMarker(opts.worktreePath);
  let skill: string | null = null;
  if (opts.brokerUrl) {
    const { template, source } = await resolveSkillTemplate("coordination", [
      opts.worktreePath,
      opts.repo,
    ]);
    const rendered = renderSkill(
      template,
      skillContextFromConfig(opts.config, {
        branchId: opts.agentId,
        projectName: opts.project,
        brokerUrl: opts.brokerUrl,
      }),
    );
    for (const w of rendered.warnings) {
      warn(`warning: ${w}${source === "embedded" ? "" : ` (${source})`}`);
    }
    skill = rendered.text;
  }
  const body = renderAgentsBlock({
    branch: opts.branch,
    agentId: opts.agentId,
    cli: opts.cli,
    peers: opts.peers,
    brokerOn: opts.brokerUrl !== null,
    supervisor: opts.supervisor,
    specPrompt: opts.specPrompt,
    ownedFiles: opts.ownedFiles,
    skill,
  });
  const agentsMd = await writeWorktreeAgentsMd({
    repo: opts.repo,
    worktreePath: opts.worktreePath,
    body,
    previous: previous?.agents_md ?? null,
  });
  if (agentsMd.hidesRepoFile) {
    warn(
      `note: ${opts.repo}/AGENTS.md is untracked; git status will not list it while agent worktrees exist (git-paw excludes /AGENTS.md in the repo's info/exclude)`,
    );
  }
  const hookPaths = new Set(previous?.hook_paths ?? []);
  if (opts.brokerUrl) {
    const { inWorktree } = await installHooks(opts.worktreePath, {
      self: opts.hookSelf,
    });
    const excluded: string[] = [];
    for (const rel of inWorktree) {
      if (await isTracked(opts.worktreePath, rel)) {
        await setSkipWorktree(opts.worktreePath, rel, true);
        hookPaths.add(rel);
      } else excluded.push(`/${rel}`);
    }
    if (excluded.length) {
      await addSharedExcludes(await gitCommonDir(opts.worktreePath), excluded);
    }
  }
  const marker: AgentMarker = {
    version: 1,
    agent_id: opts.agentId,
    expected_branch: opts.branch,
    broker_url: opts.brokerUrl,
    strict_branch_guard: opts.config?.supervisor?.strict_branch_guard ?? true,
    timestamp: new Date().toISOString(),
    repo: opts.repo,
    agents_md: { mode: agentsMd.mode, created: agentsMd.created },
    hook_paths: [...hookPaths],
  };
  await writeMarker(opts.worktreePath, marker);
  const refFile = join(await gitDir(opts.worktreePath), EXPECTED_REF_FILE);
  if (marker.strict_branch_guard) {
    await Deno.writeTextFile(refFile, `refs/heads/${opts.branch}\n`);
  } else await removeIfPresent(refFile);
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
 * skip-worktree bits, remove in-worktree hooks, the marker and the inbox
 * cursor. Shared hooks stay until {@link removeSessionHooks}.
 */
export async function teardownAgentWorktree(
  opts: { repo: string; worktreePath: string },
): Promise<void> {
  try {
    await Deno.stat(opts.worktreePath);
  } catch {
    // Already gone: only the repo-wide leftovers may need cleaning.
    await dropSharedStateIfUnused(opts.repo);
    return;
  }
  const marker = await readMarker(opts.worktreePath);
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
  await dropSharedStateIfUnused(opts.worktreePath);
}

/**
 * Strip the git-paw block (plus one adjacent blank line) from the repo-root
 * AGENTS.md (stop/purge).
 */
export async function stripRepoAgentsBlock(repo: string): Promise<void> {
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
    for (const wt of await listWorktrees(repo)) {
      if (!(await readMarker(wt).catch(() => null))) continue;
      const own = await hooksDir(wt);
      if (own.perWorktree) await removeHooksFrom(own.dir);
    }
  }
  await dropSharedStateIfUnused(repo);
}
