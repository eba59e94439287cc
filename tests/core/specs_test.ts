import assert from "node:assert/strict";
import {
  markdownEntry,
  openspecEntry,
  ownedFiles,
  parseFrontmatter,
  parseSpeckitTasks,
  selectSpecs,
  specBranch,
  speckitEntries,
  specRefs,
  specTasks,
} from "../../lib/core/specs.ts";

Deno.test("parseFrontmatter() splits fenced fields from the body, and leaves unfenced text alone", () => {
  assert.deepEqual(
    parseFrontmatter("---\npaw_cli: claude\nx: a: b\n---\n# T\n"),
    {
      fields: { paw_cli: "claude", x: "a: b" },
      body: "# T\n",
    },
  );
  assert.deepEqual(parseFrontmatter("# no fence\n"), {
    fields: null,
    body: "# no fence\n",
  });
  assert.equal(parseFrontmatter("---\nopen: never closed\n").fields, null);
});

Deno.test("specBranch() adds a slash only when the prefix lacks one", () => {
  assert.equal(specBranch("spec/", "a"), "spec/a");
  assert.equal(specBranch("spec", "a"), "spec/a");
  assert.equal(specBranch("", "a"), "a");
});

Deno.test("ownedFiles() takes the bullets after the owned-files line, up to other text", () => {
  assert.deepEqual(
    ownedFiles(
      "# x\nFiles owned:\n- `src/a.ts`\n-  src/b.ts\n\nLater text\n- not.ts",
    ),
    ["src/a.ts", "src/b.ts"],
  );
  assert.deepEqual(ownedFiles("Owned files:\n- a\n"), ["a"]);
  assert.equal(ownedFiles("nothing here\n- a"), null);
});

Deno.test("openspecEntry() strips frontmatter, appends capability specs sorted, reads paw_cli", () => {
  const e = openspecEntry({
    id: "add-auth",
    tasks:
      "---\npaw_cli: codex\n---\n## Tasks\n- [ ] one\n\nFiles owned:\n- src/auth.ts\n",
    capabilities: [{ name: "zeta", spec: "Z" }, { name: "alpha", spec: "A" }],
  }, "spec/");
  assert.equal(e.branch, "spec/add-auth");
  assert.equal(e.cli, "codex");
  assert.deepEqual(e.owned_files, ["src/auth.ts"]);
  assert.ok(!e.prompt.includes("paw_cli"));
  assert.ok(e.prompt.startsWith("## Tasks"));
  const a = e.prompt.indexOf("## Spec: alpha\n\nA");
  const z = e.prompt.indexOf("## Spec: zeta\n\nZ");
  assert.ok(a > 0 && z > a, e.prompt);
});

Deno.test("markdownEntry() takes only pending files; id from paw_branch or the stem", () => {
  assert.equal(
    markdownEntry({ name: "a.md", text: "# no frontmatter" }, "spec/"),
    null,
  );
  assert.equal(
    markdownEntry(
      { name: "a.md", text: "---\npaw_status: done\n---\nx" },
      "spec/",
    ),
    null,
  );
  const e = markdownEntry({
    name: "login-page.md",
    text: "---\npaw_status: pending\npaw_cli: claude\n---\nBuild it\n",
  }, "feat");
  assert.equal(e?.id, "login-page");
  assert.equal(e?.branch, "feat/login-page");
  assert.equal(e?.cli, "claude");
  assert.equal(e?.prompt, "Build it\n");
  const named = markdownEntry({
    name: "x.md",
    text: "---\npaw_status: pending\npaw_branch: custom-id\n---\n",
  }, "spec/");
  assert.equal(named?.id, "custom-id");
  assert.equal(named?.branch, "spec/custom-id");
});

const SPECKIT_TASKS = [
  "# Tasks",
  "## Phase 1: Setup",
  "- [x] T001 Create project",
  "## Phase 2: Core Work",
  "- [ ] T002 [P] Write the parser",
  "- [x] T003 [P] Done already",
  "- [ ] T004 Wire the CLI",
  "- [ ] T005 Document it",
  "## Phase 3: Polish",
  "- [ ] T006 [P] Later",
].join("\n");

Deno.test("parseSpeckitTasks() reads phases, markers and completion", () => {
  const phases = parseSpeckitTasks(SPECKIT_TASKS);
  assert.deepEqual(phases.map((p) => [p.number, p.name, p.tasks.length]), [
    [1, "Setup", 1],
    [2, "Core Work", 4],
    [3, "Polish", 1],
  ]);
  assert.deepEqual(phases[1]!.tasks[0], {
    id: "T002",
    parallel: true,
    complete: false,
    description: "Write the parser",
    phase: 2,
  });
});

Deno.test("speckitEntries() gives one entry per open [P] task of the first open phase plus one consolidated entry", () => {
  const entries = speckitEntries({
    name: "003-user-auth",
    tasks: SPECKIT_TASKS,
    spec: "# Auth spec",
    plan: null,
    checklists: [{ name: "ux.md", content: "- [ ] nice" }],
  });
  assert.deepEqual(entries.map((e) => [e.id, e.branch]), [
    ["003-user-auth-T002", "task/t002-write-the-parser"],
    ["003-user-auth-phase-2", "phase/003-user-auth-core-work"],
  ]);
  assert.match(entries[0]!.prompt, /## Feature Context\n\n# Auth spec/);
  assert.match(entries[0]!.prompt, /### ux\.md/);
  assert.match(entries[0]!.prompt, /T002 — Write the parser/);
  assert.match(
    entries[1]!.prompt,
    /- T004 — Wire the CLI\n- T005 — Document it/,
  );
  assert.ok(!entries[1]!.prompt.includes("T006"));
  assert.deepEqual(
    speckitEntries({
      name: "f",
      tasks: "- [x] T001 done",
      spec: null,
      plan: null,
      checklists: [],
    }),
    [],
  );
});

Deno.test("specTasks() numbers checkbox tasks per ## phase; speckit keeps its ids", () => {
  assert.deepEqual(
    specTasks(
      "---\na: b\n---\n## 1. A\n- [x] one\n## 2. B\n- [ ] two",
      "openspec",
    ),
    [
      {
        id: "1",
        phase: 1,
        parallel: false,
        description: "one",
        complete: true,
      },
      {
        id: "2",
        phase: 2,
        parallel: false,
        description: "two",
        complete: false,
      },
    ],
  );
  assert.deepEqual(specTasks(SPECKIT_TASKS, "speckit").map((t) => t.id), [
    "T001",
    "T002",
    "T003",
    "T004",
    "T005",
    "T006",
  ]);
});

Deno.test("specRefs() finds distinct [[name]] references", () => {
  assert.deepEqual(specRefs("needs [[a]] and [[ b ]] and [[a]]"), ["a", "b"]);
});

Deno.test("selectSpecs() picks by id, Spec Kit feature or unambiguous numeric prefix, and names the candidates otherwise", () => {
  const kit = (feature: string) =>
    speckitEntries({
      name: feature,
      tasks: "## Phase 1: Go\n- [ ] T001 [P] One\n- [ ] T002 Two\n",
      spec: null,
      plan: null,
      checklists: [],
    });
  const open = openspecEntry(
    { id: "add-x", tasks: "- [ ] x", capabilities: [] },
    "spec/",
  );
  const all = [
    open,
    ...kit("003-auth"),
    ...kit("004-search"),
    ...kit("004-sort"),
  ];
  const ids = (names: string[]) => {
    const r = selectSpecs(all, names);
    return r.ok ? r.entries.map((e) => e.id) : r.error;
  };
  assert.deepEqual(ids(["add-x", "003-auth-T001"]), ["add-x", "003-auth-T001"]);
  assert.deepEqual(ids(["003-auth"]), ["003-auth-T001", "003-auth-phase-1"]);
  assert.deepEqual(ids(["003", "003-auth-T001"]), [
    "003-auth-T001",
    "003-auth-phase-1",
  ]);
  assert.match(
    ids(["004"]) as string,
    /matches several features: 004-search, 004-sort/,
  );
  assert.match(
    ids(["add-x", "nope"]) as string,
    /no pending spec 'nope'; pending: add-x, /,
  );
});
