import assert from "node:assert/strict";
import {
  agentPlan,
  atWorktree,
  peersOf,
  planAgent,
  receiptPlan,
  worktreePathFor,
} from "../../lib/core/agent_plan.ts";

Deno.test("worktreePathFor() places siblings as <project>-<branch> and children under .git-paw", () => {
  assert.equal(
    worktreePathFor("/src/proj", "proj", "feat/auth"),
    "/src/proj-feat-auth",
  );
  assert.equal(
    worktreePathFor("/src/proj", "proj", "fix/issue#42", "sibling"),
    "/src/proj-fix-issue-42",
  );
  assert.equal(
    worktreePathFor("/src/proj", "proj", "Feat/Auth", "child"),
    "/src/proj/.git-paw/worktrees/feat-auth",
  );
});

Deno.test("planAgent() derives the agent id, worktree and profile from the branch and CLI once", () => {
  const p = planAgent("Feat/Auth", {
    repo: "/src/proj",
    project: "proj",
    placement: "child",
    cli: "claude --model x",
    cliArgv: ["/bin/claude", "--model", "x"],
  });
  assert.equal(p.branch, "Feat/Auth");
  assert.equal(p.agentId, "feat-auth");
  assert.equal(p.worktree, "/src/proj/.git-paw/worktrees/feat-auth");
  assert.equal(p.cli, "claude --model x");
  assert.deepEqual(p.cliArgv, ["/bin/claude", "--model", "x"]);
  assert.equal(p.profile.name, "claude");
});

Deno.test("agentPlan() picks a custom CLI's profile by its program name", () => {
  const p = agentPlan({
    branch: "a",
    worktree: "/w",
    cli: "mine",
    cliArgv: ["/opt/bin/gemini"],
  });
  assert.equal(p.profile.name, "gemini");
  assert.equal(
    agentPlan({ branch: "a", worktree: "/w", cli: "mine" }).profile.name,
    "generic",
  );
});

Deno.test("receiptPlan() uses the argv a receipt recorded unless given one", () => {
  const w = {
    branch: "feat/a",
    worktree_path: "/w/a",
    cli: "mine",
    cli_argv: ["/opt/codex"],
  };
  assert.equal(receiptPlan(w).profile.name, "codex");
  assert.equal(receiptPlan(w, ["/opt/claude"]).profile.name, "claude");
  assert.equal(receiptPlan(w).agentId, "feat-a");
});

Deno.test("atWorktree() moves a plan to the worktree git made; peersOf() lists the others' ids", () => {
  const a = agentPlan({ branch: "feat/a", worktree: "/w/a", cli: "demo" });
  const b = agentPlan({ branch: "feat/b", worktree: "/w/b", cli: "demo" });
  assert.equal(atWorktree(a, "/w/a"), a);
  const moved = atWorktree(a, "/real/a");
  assert.equal(moved.worktree, "/real/a");
  assert.equal(moved.agentId, "feat-a");
  assert.deepEqual(peersOf(a, [a, b]), ["feat-b"]);
});
