import assert from "node:assert/strict";
import { join } from "node:path";
import {
  setupAgentWorktree,
  stripRepoAgentsBlock,
  teardownAgentWorktree,
} from "../../lib/coord/setup.ts";
import { writeRepoAgentsBlock } from "../../lib/coord/agents_md.ts";
import { readMarker } from "../../lib/coord/marker.ts";
import { BLOCK_START } from "../../lib/core/agents_md.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import {
  addWorktree,
  git,
  SELF,
  status,
  type TempRepo,
  tempRepo,
} from "./hooks_fixture.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";

function setup(
  t: TempRepo,
  wt: string,
  branch: string,
  brokerUrl: string | null,
) {
  return setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: branch, worktree: wt, cli: "demo" }),
    brokerUrl,
    peers: ["feat-a", "feat-b"],
    config: defaultConfig(),
    hookSelf: SELF,
    warn: () => {},
  });
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}

Deno.test("setupAgentWorktree() keeps an untracked AGENTS.md out of git status and git add -A", async () => {
  await using t = await tempRepo();
  const wt = await addWorktree(t, "feat/a");
  await setup(t, wt, "feat/a", "http://127.0.0.1:9");
  const text = await Deno.readTextFile(join(wt, "AGENTS.md"));
  assert.ok(text.startsWith(BLOCK_START));
  assert.ok(text.includes("- **Branch:** `feat/a`"));
  assert.ok(text.includes("git paw inbox"), "coordination skill rendered");
  assert.equal(await status(wt), "");
  await git(wt, "add", "-A");
  assert.equal(await git(wt, "diff", "--cached", "--name-only"), "");
  assert.equal(await status(t.repo), "", "main checkout untouched");
  // idempotent
  await setup(t, wt, "feat/a", "http://127.0.0.1:9");
  assert.equal(await Deno.readTextFile(join(wt, "AGENTS.md")), text);
  assert.equal(await status(wt), "");
});

Deno.test("setupAgentWorktree() appends to a tracked AGENTS.md without making it dirty", async () => {
  await using t = await tempRepo({
    files: { "AGENTS.md": "# House rules\n\nBe kind.\n", "a.txt": "a\n" },
  });
  const wt = await addWorktree(t, "feat/b");
  await setup(t, wt, "feat/b", "http://127.0.0.1:9");
  const text = await Deno.readTextFile(join(wt, "AGENTS.md"));
  assert.ok(text.startsWith("# House rules\n\nBe kind.\n\n" + BLOCK_START));
  assert.equal(await status(wt), "");
  await Deno.writeTextFile(join(wt, "a.txt"), "changed\n");
  await git(wt, "add", "-A");
  await git(wt, "commit", "-q", "-a", "-m", "work");
  assert.equal(
    await git(wt, "show", "--name-only", "--format=", "HEAD"),
    "a.txt\n",
    "only the real change was committed",
  );
  assert.equal(
    await git(wt, "show", "HEAD:AGENTS.md"),
    "# House rules\n\nBe kind.\n",
  );
  assert.equal((await readMarker(wt))?.agents_md.mode, "skip-worktree");
  // teardown restores the tracked file exactly and clears the bit
  await teardownAgentWorktree({ repo: t.repo, worktreePath: wt });
  assert.equal(
    await Deno.readTextFile(join(wt, "AGENTS.md")),
    "# House rules\n\nBe kind.\n",
  );
  assert.equal(await status(wt), "");
  assert.match(await git(wt, "ls-files", "-v", "AGENTS.md"), /^H AGENTS\.md/);
  assert.equal(await readMarker(wt), null);
});

Deno.test("setupAgentWorktree() copies an untracked repo-root AGENTS.md into the worktree", async () => {
  await using t = await tempRepo();
  await Deno.writeTextFile(join(t.repo, "AGENTS.md"), "# Local notes\n");
  const wt = await addWorktree(t, "feat/c");
  const warnings: string[] = [];
  await setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: "feat/c", worktree: wt, cli: "demo" }),
    brokerUrl: null,
    peers: [],
    config: defaultConfig(),
    warn: (l) => warnings.push(l),
  });
  assert.equal(
    warnings.length,
    1,
    "the user is told the main checkout's file is hidden",
  );
  assert.match(
    warnings[0],
    /AGENTS\.md is untracked; git status will not list it/,
  );
  const text = await Deno.readTextFile(join(wt, "AGENTS.md"));
  assert.ok(text.startsWith("# Local notes\n\n" + BLOCK_START));
  assert.ok(!text.includes("git paw inbox"), "no skill without a broker");
  assert.equal(await status(wt), "");
});

Deno.test("teardownAgentWorktree() removes a generated AGENTS.md and the shared exclude once no agent is left", async () => {
  await using t = await tempRepo();
  const a = await addWorktree(t, "feat/a");
  const b = await addWorktree(t, "feat/b");
  await setup(t, a, "feat/a", null);
  await setup(t, b, "feat/b", null);
  const exclude = join(t.repo, ".git", "info", "exclude");
  assert.ok((await Deno.readTextFile(exclude)).includes("/AGENTS.md"));
  await teardownAgentWorktree({ repo: t.repo, worktreePath: a });
  assert.equal(await exists(join(a, "AGENTS.md")), false);
  assert.ok(
    (await Deno.readTextFile(exclude)).includes("/AGENTS.md"),
    "still needed by feat/b",
  );
  assert.equal(await status(b), "");
  await teardownAgentWorktree({ repo: t.repo, worktreePath: b });
  assert.ok(!(await Deno.readTextFile(exclude)).includes("git-paw"));
  assert.equal(await exists(join(b, "AGENTS.md")), false);
  assert.equal(await status(t.repo), "");
});

Deno.test("stripRepoAgentsBlock() strips the root block and keeps the user's text", async () => {
  await using t = await tempRepo({ files: { "AGENTS.md": "# Mine\n" } });
  await writeRepoAgentsBlock(t.repo, "## Supervisor\nwatch them");
  const text = await Deno.readTextFile(join(t.repo, "AGENTS.md"));
  assert.equal(
    text,
    `# Mine\n\n${BLOCK_START}\n## Supervisor\nwatch them\n<!-- git-paw:end -->\n`,
  );
  assert.equal(await status(t.repo), "", "tracked root AGENTS.md not dirty");
  await stripRepoAgentsBlock(t.repo);
  assert.equal(await Deno.readTextFile(join(t.repo, "AGENTS.md")), "# Mine\n");
  assert.equal(await status(t.repo), "");
  assert.match(await git(t.repo, "ls-files", "-v", "AGENTS.md"), /^H /);
});

Deno.test("stripRepoAgentsBlock() removes a root AGENTS.md that held only the block", async () => {
  await using t = await tempRepo();
  await writeRepoAgentsBlock(t.repo, "sup");
  assert.equal(await status(t.repo), "");
  await stripRepoAgentsBlock(t.repo);
  assert.equal(await exists(join(t.repo, "AGENTS.md")), false);
  await stripRepoAgentsBlock(t.repo); // no-op the second time
  assert.equal(await status(t.repo), "");
});

Deno.test("setupAgentWorktree() renders a repo's own coordination skill and warns about leftovers", async () => {
  await using t = await tempRepo({
    files: {
      ".agents/skills/coordination/SKILL.md":
        "---\nname: coordination\ndescription: house style\n---\n## House coordination\nPing {{GIT_PAW_BROKER_URL}} as {{BRANCH_ID}}; see {{TICKET_URL}}.\n",
    },
  });
  const wt = await addWorktree(t, "feat/own");
  const warnings: string[] = [];
  await setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: "feat/own", worktree: wt, cli: "demo" }),
    brokerUrl: "http://127.0.0.1:9",
    peers: [],
    config: defaultConfig(),
    hookSelf: SELF,
    warn: (l) => warnings.push(l),
  });
  const text = await Deno.readTextFile(join(wt, "AGENTS.md"));
  assert.ok(
    text.includes(
      "## House coordination\nPing http://127.0.0.1:9 as feat-own; see {{TICKET_URL}}.",
    ),
  );
  assert.ok(!text.includes("description: house style"), "frontmatter stripped");
  assert.ok(
    !text.includes("Working alongside other agents"),
    "embedded skill replaced",
  );
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0],
    /^warning: skill coordination: unknown placeholder \{\{TICKET_URL\}\} left as is \(.*SKILL\.md\)$/,
  );
  assert.equal(await status(wt), "");
});
