import assert from "node:assert/strict";
import { join } from "node:path";
import {
  NOT_CONFIGURED,
  parseFrontmatter,
  renderSkill,
  resolveSkillTemplate,
  skillContextFromConfig,
} from "../../lib/coord/skills.ts";
import { renderAgentsBlock } from "../../lib/coord/agents_md.ts";
import { injectBlock } from "../../lib/core/agents_md.ts";
import { type Config, defaultConfig } from "../../lib/core/config.ts";

/** Default config with a few changes. */
function cfg(
  edit: (c: Config) => void = () => {},
): Config {
  const c = defaultConfig();
  edit(c);
  return c;
}

const BASE = {
  branchId: "feat-parser",
  projectName: "demo",
  brokerUrl: "http://127.0.0.1:9119",
};

async function embedded(): Promise<string> {
  return (await resolveSkillTemplate("coordination", [])).template;
}

Deno.test("renderSkill() fills every placeholder of the embedded coordination skill", async () => {
  const r = renderSkill(await embedded(), skillContextFromConfig(cfg(), BASE));
  assert.deepEqual(r.warnings, []);
  assert.doesNotMatch(r.text, /\{\{[A-Z_]+\}\}/);
  assert.doesNotMatch(r.text, /^---/, "frontmatter stripped");
  assert.ok(r.text.includes("agent `feat-parser` of project demo"));
  assert.ok(
    r.text.includes(
      "curl -s 'http://127.0.0.1:9119/messages/feat-parser?since=N'",
    ),
  );
  assert.ok(r.text.includes("curl -s -X POST http://127.0.0.1:9119/publish"));
});

Deno.test("renderSkill() teaches the helper before curl", async () => {
  const { text } = renderSkill(
    await embedded(),
    skillContextFromConfig(cfg(), BASE),
  );
  const helper = text.indexOf("git paw publish intent");
  const inbox = text.indexOf("git paw inbox");
  const curl = text.indexOf("curl ");
  assert.ok(helper >= 0 && inbox >= 0 && curl > helper && curl > inbox);
});

Deno.test("renderSkill() says (not configured) for unset gates and uses configured ones", async () => {
  const t = await embedded();
  const unset = renderSkill(t, skillContextFromConfig(cfg(), BASE)).text;
  assert.ok(unset.includes(`tests ${NOT_CONFIGURED}; lint ${NOT_CONFIGURED}`));
  const set = renderSkill(
    t,
    skillContextFromConfig(
      cfg((c) => {
        c.supervisor.test_command = "deno task test";
        c.supervisor.lint_command = "deno lint";
      }),
      BASE,
    ),
  ).text;
  assert.ok(
    set.includes(
      "tests deno task test; lint deno lint; build (not configured)",
    ),
  );
});

Deno.test("renderSkill() keeps opsx gating lines only with an OpenSpec backend", async () => {
  const t = await embedded();
  const plain = renderSkill(t, skillContextFromConfig(cfg(), BASE)).text;
  assert.ok(!plain.includes("/opsx:verify"));
  assert.ok(!plain.includes("opsx-role-gating"));
  const opsx = renderSkill(
    t,
    skillContextFromConfig(
      cfg((c) => c.specs = { dir: "specs", type: "openspec" }),
      BASE,
    ),
  ).text;
  assert.ok(opsx.includes("Never run `/opsx:verify`"));
  assert.ok(opsx.includes("openspec/changes/"), "spec path doctrine rendered");
  assert.ok(!opsx.includes("opsx-role-gating"), "marker lines dropped");
});

Deno.test("renderSkill() warns once per unknown placeholder and leaves {{CHANGE_ID}} alone", () => {
  const r = renderSkill(
    "---\nname: mine\ndescription: My skill\n---\n{{SKILL_NAME}}: {{SKILL_DESCRIPTION}} {{WHAT}} {{WHAT}} {{CHANGE_ID}} {{DOC_TOOL_COMMAND}}|",
    BASE,
  );
  assert.equal(r.text, "mine: My skill {{WHAT}} {{WHAT}} {{CHANGE_ID}} |\n");
  assert.deepEqual(r.warnings, [
    "skill coordination: unknown placeholder {{WHAT}} left as is",
  ]);
});

Deno.test("parseFrontmatter() returns the body and simple key/values", () => {
  const { meta, body } = parseFrontmatter(
    '---\nname: x\ndescription: "a: b"\n---\nHello\n',
  );
  assert.deepEqual(meta, { name: "x", description: "a: b" });
  assert.equal(body, "Hello\n");
  assert.deepEqual(parseFrontmatter("No front\n"), {
    meta: {},
    body: "No front\n",
  });
});

Deno.test("resolveSkillTemplate() prefers .agents/skills/coordination/SKILL.md in the repo", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const sub = join(dir, "a", "b");
    await Deno.mkdir(sub, { recursive: true });
    const skillDir = join(dir, ".agents", "skills", "coordination");
    await Deno.mkdir(skillDir, { recursive: true });
    await Deno.writeTextFile(
      join(skillDir, "SKILL.md"),
      "---\nname: coordination\ndescription: ours\n---\nOur rules for {{BRANCH_ID}} at {{GIT_PAW_BROKER_URL}}.\n",
    );
    const found = await resolveSkillTemplate("coordination", [sub]);
    assert.equal(found.source, join(skillDir, "SKILL.md"));
    const r = renderSkill(found.template, BASE);
    assert.equal(
      r.text,
      "Our rules for feat-parser at http://127.0.0.1:9119.\n",
    );
    const none = await resolveSkillTemplate("coordination", [
      join(dir, "..", ".."),
    ]);
    assert.equal(none.source, "embedded");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("renderAgentsBlock() with the default skill stays within 4 KB", async () => {
  const skill = renderSkill(
    await embedded(),
    skillContextFromConfig(
      cfg((c) => c.supervisor.test_command = "deno task test"),
      {
        ...BASE,
        branchId: "feat-a-fairly-long-branch-name",
        brokerUrl: "http://127.0.0.1:65535",
      },
    ),
  ).text;
  const body = renderAgentsBlock({
    branch: "feat/a-fairly-long-branch-name",
    agentId: "feat-a-fairly-long-branch-name",
    cli: "claude",
    peers: ["feat-b-other-work", "feat-c-more-work", "fix-d-bug"],
    brokerOn: true,
    skill,
  });
  const bytes = new TextEncoder().encode(injectBlock("", body)).length;
  assert.ok(bytes <= 4096, `${bytes} bytes`);
  assert.ok(body.includes("## git-paw Session Assignment"));
  assert.ok(body.includes("- **Branch:** `feat/a-fairly-long-branch-name`"));
  assert.ok(body.includes("- **CLI:** claude"));
  assert.ok(body.includes("## Inter-Agent Rules"));
  assert.ok(
    body.includes("`feat-b-other-work`, `feat-c-more-work`, `fix-d-bug`"),
  );
});

Deno.test("renderAgentsBlock() adds spec and ownership sections and omits broker rules when off", () => {
  const body = renderAgentsBlock({
    branch: "feat/x",
    agentId: "feat-x",
    cli: "codex",
    peers: [],
    brokerOn: false,
    supervisor: true,
    specPrompt: "Build the parser.",
    ownedFiles: ["src/parser.ts"],
  });
  assert.ok(body.includes("### Spec\n\nBuild the parser."));
  assert.ok(body.includes("### File Ownership\n\n- `src/parser.ts`"));
  assert.ok(body.includes("You are the only agent"));
  assert.ok(body.includes("the supervisor merges"));
  assert.ok(!body.includes("inbox"));
});
