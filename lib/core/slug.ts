/**
 * Agent identity and worktree naming rules (docs/REFERENCE.md, "Worktrees and git"). Pure.
 * @module
 */

/** The reserved identity of the supervisor. */
export const SUPERVISOR_ID = "supervisor";

/**
 * Slug of a branch name: ASCII-lowercase, every char outside `[a-z0-9_]`
 * becomes `-`, runs of `-` collapse, leading/trailing `-` are trimmed; an empty
 * result becomes `agent`.
 *
 * @example
 * ```ts
 * import { slugify } from "./slug.ts";
 * slugify("feat/Auth"); // "feat-auth"
 * ```
 */
export function slugify(branch: string): string {
  const lowered = branch.replace(/[A-Z]/g, (c) => c.toLowerCase());
  const s = lowered.replace(/[^a-z0-9_]/g, "-").replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "");
  return s === "" ? "agent" : s;
}

/**
 * Why `branch` cannot be an agent's branch because its agent id is reserved
 * (the supervisor's), or null. Branches like `Supervisor` count: their
 * agent id is `supervisor` too.
 *
 * @example
 * ```ts
 * import { reservedBranchProblem } from "./slug.ts";
 * reservedBranchProblem("supervisor"); // "Branch error: 'supervisor' …"
 * reservedBranchProblem("feat/a"); // null
 * ```
 */
export function reservedBranchProblem(branch: string): string | null {
  if (slugify(branch) !== SUPERVISOR_ID) return null;
  return `Branch error: '${branch}' would have the agent id '${SUPERVISOR_ID}', which is reserved for the supervisor; rename the branch.`;
}

/** True when `id` is already a slug (`[a-z0-9_-]+`). */
export function isSlug(id: string): boolean {
  return /^[a-z0-9_-]+$/.test(id);
}

/**
 * Worktree directory name part: every char that is not a Unicode letter or
 * digit becomes `-` (no collapsing, case kept).
 */
export function dirPart(s: string): string {
  return s.replace(/[^\p{L}\p{N}]/gu, "-");
}

/** `<project>-<branch>` directory name for a sibling worktree. */
export function worktreeDirName(project: string, branch: string): string {
  return `${dirPart(project)}-${dirPart(branch)}`;
}

/** Session name `paw-<project>`, sanitised for tmux (no `.`, `:`, spaces). */
export function sessionBaseName(project: string): string {
  const clean = project.replace(/[^A-Za-z0-9_-]/g, "-").replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "");
  return `paw-${clean === "" ? "project" : clean}`;
}
