import assert from "node:assert/strict";
import { join } from "node:path";
import { defaultConfig } from "../../lib/core/config.ts";
import { listSpecs } from "../../lib/coord/specs.ts";
import { makeRepo } from "../session/git_fixture.ts";

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** An OpenSpec change, an archived one, one without tasks.md. */
async function writeOpenSpec(repo: string): Promise<void> {
  const c = join(repo, "openspec", "changes");
  await write(
    join(c, "add-login", "tasks.md"),
    "---\npaw_cli: codex\n---\n## 1. Login\n- [ ] 1.1 Form\n- [x] 1.2 Route\n\nFiles owned:\n- src/login.ts\n- `src/routes.ts`\n",
  );
  await write(
    join(c, "add-login", "proposal.md"),
    "# Add login\nNeeds [[add-db]].\n",
  );
  await write(join(c, "add-login", "specs", "auth", "spec.md"), "Auth rules\n");
  await write(join(c, "add-login", "specs", "ui", "spec.md"), "UI rules\n");
  await write(join(c, "add-db", "tasks.md"), "- [ ] schema\n");
  await write(join(c, "archive", "old", "tasks.md"), "- [ ] old\n");
  await Deno.mkdir(join(c, "no-tasks"), { recursive: true });
}

Deno.test("listSpecs() reads an OpenSpec change directory: prompt, capability specs, paw_cli, owned files", async () => {
  await using r = await makeRepo();
  await writeOpenSpec(r.repo);
  const config = defaultConfig();
  config.specs = { dir: "openspec/changes", type: "openspec" };
  const warnings: string[] = [];
  const specs = await listSpecs(r.repo, config, {
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(specs.map((s) => [s.id, s.branch]), [
    ["add-db", "spec/add-db"],
    ["add-login", "spec/add-login"],
  ]);
  const login = specs[1]!;
  assert.equal(login.cli, "codex");
  assert.deepEqual(login.owned_files, ["src/login.ts", "src/routes.ts"]);
  assert.match(login.prompt, /^## 1\. Login/);
  assert.match(
    login.prompt,
    /## Spec: auth\n\nAuth rules\n\n\n## Spec: ui\n\nUI rules/,
  );
  assert.deepEqual(warnings, ["skipping change no-tasks: no tasks.md found"]);
});

Deno.test("listSpecs() reads pending markdown specs with the configured branch prefix", async () => {
  await using r = await makeRepo();
  await write(
    join(r.repo, "specs", "search.md"),
    "---\npaw_status: pending\npaw_cli: claude\n---\n# Search\nAdd search.\n",
  );
  await write(
    join(r.repo, "specs", "old.md"),
    "---\npaw_status: done\n---\n# Old\n",
  );
  await write(
    join(r.repo, "specs", "notes.txt"),
    "---\npaw_status: pending\n---\n",
  );
  const config = defaultConfig();
  config.specs = { dir: "specs", type: "markdown" };
  config.branch_prefix = "feat";
  const specs = await listSpecs(r.repo, config);
  assert.equal(specs.length, 1);
  assert.deepEqual(
    { ...specs[0]!, prompt: undefined },
    {
      id: "search",
      backend: "markdown",
      branch: "feat/search",
      cli: "claude",
      prompt: undefined,
      owned_files: null,
      source: "search.md",
    },
  );
  assert.equal(specs[0]!.prompt, "# Search\nAdd search.\n");
});

Deno.test("listSpecs() detects a Spec Kit feature under .specify/specs without a [specs] table", async () => {
  await using r = await makeRepo();
  const f = join(r.repo, ".specify", "specs", "001-search");
  await write(
    join(f, "tasks.md"),
    "## Phase 1: Build\n- [ ] T001 [P] Index\n- [ ] T002 Query\n",
  );
  await write(join(f, "spec.md"), "# Search feature\n");
  await write(join(f, "plan.md"), "Plan text\n");
  const specs = await listSpecs(r.repo, defaultConfig());
  assert.deepEqual(specs.map((s) => [s.id, s.branch, s.backend]), [
    ["001-search-T001", "task/t001-index", "speckit"],
    ["001-search-phase-1", "phase/001-search-build", "speckit"],
  ]);
  assert.match(specs[0]!.prompt, /## Implementation Plan\n\nPlan text/);
});

Deno.test("listSpecs() names a missing [specs] table and a missing directory", async () => {
  await using r = await makeRepo();
  await assert.rejects(
    listSpecs(r.repo, defaultConfig()),
    /Spec error: no \[specs\] section in config/,
  );
  const config = defaultConfig();
  config.specs = { dir: "nope", type: "openspec" };
  await assert.rejects(
    listSpecs(r.repo, config),
    /Spec error: specs directory does not exist: .*nope/,
  );
});

Deno.test("listSpecs() without a [specs] table reads openspec/changes/ when it exists, also for --specs-format openspec", async () => {
  await using r = await makeRepo();
  await writeOpenSpec(r.repo);
  const found = await listSpecs(r.repo, defaultConfig());
  assert.deepEqual(found.map((s) => [s.id, s.backend]), [
    ["add-db", "openspec"],
    ["add-login", "openspec"],
  ]);
  const asked = await listSpecs(r.repo, defaultConfig(), {
    format: "openspec",
  });
  assert.deepEqual(asked.map((s) => s.id), ["add-db", "add-login"]);
});
