/**
 * userIgnoredFiles(): of what git ignores in an agent worktree, the user's
 * files (a `.env`, `node_modules/`) count and git-paw's own (the AGENTS.md it
 * created, hooks it wrote into the worktree) do not.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { setupAgentWorktree, userIgnoredFiles } from "../../lib/coord/setup.ts";
import { worktreeFiles } from "../../lib/adapters/git.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import {
  addWorktree,
  deadUrl,
  git,
  SELF,
  type TempRepo,
  tempRepo,
} from "./hooks_fixture.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";

function setup(t: TempRepo, wt: string, branch: string) {
  return setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: branch, worktree: wt, cli: "demo" }),
    brokerUrl: deadUrl(),
    peers: [],
    config: defaultConfig(),
    hookSelf: SELF,
    warn: () => {},
  });
}

async function repoWithIgnores(): Promise<TempRepo> {
  const t = await tempRepo({
    files: {
      ".gitignore": ".env\nnode_modules/\n",
      ".githooks/pre-commit": "#!/bin/sh\n",
      "README.md": "r\n",
    },
  });
  // Hooks inside each worktree, so git-paw writes files there too.
  await git(t.repo, "config", "core.hooksPath", ".githooks");
  return t;
}

Deno.test("userIgnoredFiles() counts the user's ignored files, not the AGENTS.md and hooks git-paw wrote", async () => {
  await using t = await repoWithIgnores();
  const wt = await addWorktree(t, "feat/a");
  await setup(t, wt, "feat/a");
  await Deno.writeTextFile(join(wt, ".env"), "SECRET=1\n");
  await Deno.mkdir(join(wt, "node_modules", "x"), { recursive: true });
  await Deno.writeTextFile(join(wt, "node_modules", "x", "i.js"), "\n");
  const found = await worktreeFiles(wt);
  assert.deepEqual(found.changed, []);
  // git sees git-paw's files as ignored too: the filter is what keeps them out.
  assert.ok(found.ignored.includes("AGENTS.md"), found.ignored.join(", "));
  assert.ok(
    found.ignored.includes(".githooks/post-commit"),
    found.ignored.join(", "),
  );
  assert.deepEqual(
    (await userIgnoredFiles(wt, found.ignored)).sort(),
    [".env", "node_modules/"],
  );
});

Deno.test("userIgnoredFiles() is empty for a fresh agent worktree, and keeps a user's AGENTS.md that git-paw only hid", async () => {
  await using t = await repoWithIgnores();
  const fresh = await addWorktree(t, "feat/fresh");
  await setup(t, fresh, "feat/fresh");
  const mine = await addWorktree(t, "feat/mine");
  // An untracked AGENTS.md of the user's, there before setup.
  await Deno.writeTextFile(join(mine, "AGENTS.md"), "# my notes\n");
  await setup(t, mine, "feat/mine");
  assert.deepEqual(
    await userIgnoredFiles(fresh, (await worktreeFiles(fresh)).ignored),
    [],
  );
  assert.deepEqual(
    await userIgnoredFiles(mine, (await worktreeFiles(mine)).ignored),
    ["AGENTS.md"],
  );
});
