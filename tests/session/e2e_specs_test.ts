/**
 * Spec-driven launch end to end: `start --from-all-specs`, `--specs`,
 * `--specs-format`, `--dry-run` and `add --from-spec` on real repos holding
 * an OpenSpec change, markdown specs and a Spec Kit feature.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { makeWorld, statusJson, waitFor, type World } from "./e2e_helpers.ts";

async function write(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

/** Two OpenSpec changes (one with capability specs and owned files). */
async function writeOpenSpec(w: World, commit = true): Promise<void> {
  const c = join(w.repo, "openspec", "changes");
  await write(
    join(c, "add-login", "tasks.md"),
    "---\npaw_cli: nope-cli\n---\n## 1. Login\n- [ ] 1.1 Login form\n\nFiles owned:\n- src/login.ts\n- `src/routes.ts`\n",
  );
  await write(join(c, "add-login", "specs", "auth", "spec.md"), "Auth rules\n");
  await write(join(c, "add-db", "tasks.md"), "- [ ] 1.1 Schema\n");
  await w.writeConfig(
    `[specs]\ndir = "openspec/changes"\ntype = "openspec"\n`,
  );
  if (commit) await commitAll(w);
}

async function commitAll(w: World): Promise<void> {
  assert.equal((await w.git(["add", "-A"])).code, 0);
  const r = await w.git(["commit", "-q", "-m", "specs"]);
  assert.equal(r.code, 0, r.stderr);
}

type LogEntry = {
  message: {
    type: string;
    agent_id: string;
    payload: { files?: unknown[]; summary?: string };
  };
};

async function brokerLog(url: string): Promise<LogEntry[]> {
  const r = await fetch(`${url}/log?since=0`);
  if (!r.ok) {
    await r.body?.cancel();
    return [];
  }
  return ((await r.json()) as { entries: LogEntry[] }).entries;
}

Deno.test("start --from-all-specs --cli demo makes one agent per OpenSpec change, its spec in AGENTS.md and its owned files on the broker", async () => {
  await using w = await makeWorld({ project: "proj" });
  await writeOpenSpec(w);
  const r = await w.paw(["start", "--from-all-specs", "--cli", "demo"]);
  assert.equal(r.code, 0, r.stderr);
  // --cli wins over paw_cli (which names a CLI that does not exist).
  assert.doesNotMatch(r.stderr, /nope-cli/);
  assert.doesNotMatch(r.stderr, /uncommitted/);
  const s = await statusJson(w);
  assert.deepEqual(
    s.worktrees!.map((x) => [x.branch, x.cli]),
    [["spec/add-db", "demo"], ["spec/add-login", "demo"]],
  );
  const login = s.worktrees!.find((x) => x.branch === "spec/add-login")!;
  const md = await Deno.readTextFile(join(login.worktree_path, "AGENTS.md"));
  assert.match(md, /### Spec\n\n## 1\. Login\n- \[ \] 1\.1 Login form/);
  assert.match(md, /## Spec: auth\n\nAuth rules/);
  assert.doesNotMatch(md, /paw_cli/, "frontmatter stays out of the prompt");
  assert.match(
    md,
    /### File Ownership\n\n- `src\/login\.ts`\n- `src\/routes\.ts`/,
  );
  const db = s.worktrees!.find((x) => x.branch === "spec/add-db")!;
  const dbMd = await Deno.readTextFile(join(db.worktree_path, "AGENTS.md"));
  assert.match(dbMd, /### Spec\n\n- \[ \] 1\.1 Schema/);
  assert.doesNotMatch(dbMd, /### File Ownership/);
  // The owned files were claimed as spec-add-login's intent at launch.
  const intent = await waitFor(
    "the owned-files intent",
    async () =>
      (await brokerLog(s.broker_url!)).find((e) =>
        e.message.type === "agent.intent" &&
        e.message.agent_id === "spec-add-login" &&
        e.message.payload.summary === "owned files of spec add-login"
      ),
  );
  assert.deepEqual(intent.message.payload.files, [
    "src/login.ts",
    "src/routes.ts",
  ]);
  // The receipt keeps the spec: a recovery writes it into AGENTS.md again.
  assert.equal((await w.paw(["stop"])).code, 0);
  await Deno.remove(join(login.worktree_path, "AGENTS.md"));
  const again = await w.paw(["start"]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(
    await Deno.readTextFile(join(login.worktree_path, "AGENTS.md")),
    /### File Ownership\n\n- `src\/login\.ts`/,
  );
});

Deno.test("start --specs without a terminal names the flags to use; unknown names fail before anything is made", async () => {
  await using w = await makeWorld({ project: "proj" });
  await writeOpenSpec(w);
  const bare = await w.paw(["start", "--specs", "--cli", "demo"]);
  assert.equal(bare.code, 2);
  assert.match(
    bare.stderr,
    /^error: Spec error: .*--specs NAME\[,NAME\.\.\.\] or --from-all-specs\.$/m,
  );
  const unknown = await w.paw([
    "start",
    "--specs",
    "add-db,zzz",
    "--cli",
    "demo",
  ]);
  assert.equal(unknown.code, 1);
  assert.match(
    unknown.stderr,
    /Spec error: no pending spec 'zzz'; pending: add-db, add-login/,
  );
  assert.deepEqual(await statusJson(w), { session: null });
  const both = await w.paw(["start", "--specs", "a", "--from-all-specs"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /cannot be used with/);
});

Deno.test("start --specs NAME --dry-run shows the spec plan and warns about an uncommitted spec", async () => {
  await using w = await makeWorld({ project: "proj" });
  await writeOpenSpec(w, false);
  // paw_cli picks the CLI when --cli is absent; default_spec_cli the rest.
  await w.writeConfig(
    `default_spec_cli = "demo"\n[specs]\ndir = "openspec/changes"\ntype = "openspec"\n[clis.nope-cli]\ncommand = "sh"\n`,
  );
  const r = await w.paw(["start", "--specs", "add-login,add-db", "--dry-run"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Dry run — session plan \(from specs\):$/m);
  assert.match(
    r.stdout,
    /^ {2}spec\/add-login → nope-cli \(.*proj-spec-add-login\)\n {6}spec: add-login\n {6}owns: src\/login\.ts, src\/routes\.ts$/m,
  );
  assert.match(r.stdout, /^ {2}spec\/add-db → demo \(/m);
  assert.ok(
    r.stdout.indexOf("spec/add-login") < r.stdout.indexOf("spec/add-db"),
    "in the order named",
  );
  assert.match(
    r.stderr,
    /warning: spec 'add-login' has uncommitted changes in openspec\/changes\/add-login/,
  );
  assert.deepEqual(await statusJson(w), { session: null });
});

Deno.test("start --from-all-specs says when no spec is pending; --specs-format reads another format", async () => {
  await using w = await makeWorld({ project: "proj" });
  await write(
    join(w.repo, "specs", "done.md"),
    "---\npaw_status: done\n---\n# Done\n",
  );
  await w.writeConfig(`[specs]\ndir = "specs"\ntype = "markdown"\n`);
  await commitAll(w);
  const none = await w.paw(["start", "--from-all-specs", "--cli", "demo"]);
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, "No pending specs found.\n");
  assert.deepEqual(await statusJson(w), { session: null });

  // The same folder read as Spec Kit: one entry per [P] task and a phase.
  const f = join(w.repo, "specs", "003-search");
  await write(
    join(f, "tasks.md"),
    "## Phase 1: Build\n- [ ] T001 [P] Index\n- [ ] T002 Query\n",
  );
  await commitAll(w);
  const kit = await w.paw([
    "start",
    "--specs",
    "003",
    "--specs-format",
    "speckit",
    "--cli",
    "demo",
    "--dry-run",
  ]);
  assert.equal(kit.code, 0, kit.stderr);
  assert.match(
    kit.stdout,
    /^ {2}task\/t001-index → demo .*\n {6}spec: 003-search-T001$/m,
  );
  assert.match(kit.stdout, /^ {2}phase\/003-search-build → demo /m);
});

Deno.test("add --from-spec adds an agent on the spec's branch with its spec and owned files; add refuses a branch with --from-spec", async () => {
  await using w = await makeWorld({ project: "proj" });
  await writeOpenSpec(w);
  const start = await w.paw(["start", "--specs", "add-db", "--cli", "demo"]);
  assert.equal(start.code, 0, start.stderr);
  const both = await w.paw(["add", "feat/x", "--from-spec", "add-login"]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /cannot be used together/);
  const add = await w.paw(["add", "--from-spec", "add-login", "--cli", "demo"]);
  assert.equal(add.code, 0, add.stderr);
  assert.match(add.stdout, /Added 'spec\/add-login' to session 'paw-proj'/);
  const s = await statusJson(w);
  const wt = s.worktrees!.find((x) => x.branch === "spec/add-login")!;
  assert.equal(wt.cli, "demo");
  const md = await Deno.readTextFile(join(wt.worktree_path, "AGENTS.md"));
  assert.match(md, /### Spec\n\n## 1\. Login/);
  assert.match(md, /### File Ownership\n\n- `src\/login\.ts`/);
  const intent = await waitFor(
    "the owned-files intent",
    async () =>
      (await brokerLog(s.broker_url!)).find((e) =>
        e.message.type === "agent.intent" &&
        e.message.agent_id === "spec-add-login" &&
        e.message.payload.summary === "owned files of spec add-login"
      ),
  );
  assert.deepEqual(intent.message.payload.files, [
    "src/login.ts",
    "src/routes.ts",
  ]);
  const unknown = await w.paw(["add", "--from-spec", "nope"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /Spec error: no pending spec 'nope'/);
});
