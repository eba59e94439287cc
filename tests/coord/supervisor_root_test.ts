/**
 * The supervisor's files in the repo root on a real git repo: the AGENTS.md
 * block and the files a Claude supervisor reads (CLAUDE.md importing
 * AGENTS.md, the local settings with git-paw's rules and hooks) are
 * written and hidden from git; teardown gives the user's own files back
 * byte for byte and removes git-paw's; the CLI hooks of the repo root speak
 * as `supervisor` (the state file is their identity).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  readSupervisorState,
  renderSupervisorBlock,
  setupSupervisorRoot,
  SUPERVISOR_STATE_FILE,
  supervisorIdentityEnv,
  type SupervisorRootSetup,
  teardownSupervisorRoot,
} from "../../lib/coord/supervisor_root.ts";
import { stripRepoAgentsBlock } from "../../lib/coord/setup.ts";
import { runCliEvent } from "../../lib/coord/cli_event.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import { git, SELF, status, tempBroker, tempRepo } from "./hooks_fixture.ts";

const USER_AGENTS = "# Rules\n\nBe kind.\n";
const USER_CLAUDE = "# My notes for Claude\n";
const USER_SETTINGS = '{\n  "permissions": { "allow": ["Bash(ls:*)"] }\n}\n';

function setup(repo: string, extra: Partial<SupervisorRootSetup> = {}) {
  const config = defaultConfig();
  config.supervisor.test_command = "deno task test";
  return {
    repo,
    project: "repo",
    session: "paw-repo",
    cli: "claude",
    brokerUrl: "http://127.0.0.1:45999",
    agents: [{
      agentId: "feat-a",
      branch: "feat/a",
      cli: "claude",
      worktreePath: "/w/repo-feat-a",
    }],
    config,
    approvalsMode: "queue" as const,
    hookSelf: SELF,
    ...extra,
  };
}

async function read(p: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(p);
  } catch {
    return null;
  }
}

Deno.test("renderSupervisorBlock() names the agents, the commands, the gates and the mode", () => {
  const s = setup("/r");
  const text = renderSupervisorBlock(s);
  assert.match(text, /^## git-paw Supervisor\n/);
  assert.match(text, /agent id `supervisor`/);
  assert.match(text, /- `feat-a` — branch `feat\/a`, CLI claude/);
  for (
    const c of [
      "`git paw agents [--json]`",
      "`git paw tell <agent> <text>`",
      "`git paw approvals --pending --json`",
      "`git paw approve ID`",
      "`git paw deny ID --reason TEXT`",
      "`git paw publish verified <agent>",
      "`git paw publish feedback <agent>",
    ]
  ) assert.ok(text.includes(c), c);
  assert.match(text, /- `test_command`: `deno task test`/);
  assert.match(text, /run in `queue` mode/);
  const none = renderSupervisorBlock({ ...s, config: defaultConfig() });
  assert.match(none, /No gate command is configured/);
});

Deno.test("setupSupervisorRoot() claude: writes and hides its files; teardown restores the user's byte for byte", async () => {
  await using t = await tempRepo({
    files: { "README.md": "# r\n", "AGENTS.md": USER_AGENTS },
  });
  // The user's own untracked files that git-paw merges into.
  await Deno.writeTextFile(join(t.repo, "CLAUDE.md"), USER_CLAUDE);
  await Deno.mkdir(join(t.repo, ".claude"));
  await Deno.writeTextFile(
    join(t.repo, ".claude", "settings.local.json"),
    USER_SETTINGS,
  );
  const before = await status(t.repo);

  const state = await setupSupervisorRoot(setup(t.repo));
  assert.equal(state.agent_id, "supervisor");
  assert.deepEqual(supervisorIdentityEnv(state), {
    GIT_PAW_AGENT_ID: "supervisor",
  });
  const md = (await read(join(t.repo, "AGENTS.md")))!;
  assert.ok(md.startsWith(USER_AGENTS));
  assert.match(md, /## git-paw Supervisor/);
  const claude = (await read(join(t.repo, "CLAUDE.md")))!;
  assert.ok(claude.startsWith(USER_CLAUDE));
  assert.match(claude, /^@AGENTS\.md$/m);
  const settings = JSON.parse(
    (await read(join(t.repo, ".claude", "settings.local.json")))!,
  );
  assert.ok(settings.permissions.allow.includes("Bash(ls:*)"));
  assert.ok(settings.permissions.allow.includes("Bash(git paw:*)"));
  assert.match(JSON.stringify(settings.hooks), /__cli-event/);
  assert.match(JSON.stringify(settings.hooks), /--approvals queue/);
  // Nothing new shows in the user's checkout (while the session runs, the
  // shared exclude also hides the user's untracked CLAUDE.md, as for an
  // agent worktree's files).
  const during = (await status(t.repo)).split("\n").filter((l) => l);
  for (const l of during) assert.ok(before.includes(l), l);
  // Idempotent: a second setup (recovery) gives the same files.
  await setupSupervisorRoot(setup(t.repo));
  assert.equal(await read(join(t.repo, "CLAUDE.md")), claude);
  assert.deepEqual((await readSupervisorState(t.repo))?.cli_files.length, 3);

  // stop / purge: stripRepoAgentsBlock tears the supervisor down too.
  await stripRepoAgentsBlock(t.repo);
  assert.equal(await read(join(t.repo, "AGENTS.md")), USER_AGENTS);
  assert.equal(await read(join(t.repo, "CLAUDE.md")), USER_CLAUDE);
  assert.equal(
    await read(join(t.repo, ".claude", "settings.local.json")),
    USER_SETTINGS,
  );
  assert.equal(await read(join(t.repo, ".mcp.json")), null);
  assert.equal(
    await read(join(t.repo, ".git", SUPERVISOR_STATE_FILE)),
    null,
  );
  assert.equal(await status(t.repo), before);
  assert.equal(
    await git(t.repo, "ls-files", "-v", "AGENTS.md"),
    "H AGENTS.md\n",
  );
  // A second teardown is a no-op.
  await teardownSupervisorRoot(t.repo);
  assert.equal(await read(join(t.repo, "CLAUDE.md")), USER_CLAUDE);
});

Deno.test("setupSupervisorRoot() in a repo without the user's files: teardown leaves none behind", async () => {
  await using t = await tempRepo();
  await setupSupervisorRoot(setup(t.repo));
  assert.notEqual(await read(join(t.repo, "CLAUDE.md")), null);
  assert.equal(await status(t.repo), "");
  await stripRepoAgentsBlock(t.repo);
  for (const f of ["AGENTS.md", "CLAUDE.md", ".claude", ".mcp.json"]) {
    assert.equal(
      await Deno.stat(join(t.repo, f)).then(() => true, () => false),
      false,
      f,
    );
  }
  assert.equal(await status(t.repo), "");
});

Deno.test("the repo root's CLI hooks publish as the supervisor (identity from the state file)", async () => {
  await using t = await tempRepo();
  await using broker = await tempBroker();
  await setupSupervisorRoot(setup(t.repo, { brokerUrl: broker.url }));
  const code = await runCliEvent({
    cli: "claude",
    event: "UserPromptSubmit",
    payloadArg: JSON.stringify({ prompt: "look at the agents" }),
    cwd: t.repo,
    env: (n) => n === "GIT_PAW_AGENT_ID" ? "supervisor" : undefined,
    stdin: null,
    warn: () => {},
  });
  assert.equal(code, 0);
  const me = broker.agents().find((a) => a.agent_id === "supervisor");
  assert.ok(me, JSON.stringify(broker.agents()));
  assert.equal(me.status, "working");
  // Another id in the environment is refused, nothing published.
  const wrong = await runCliEvent({
    cli: "claude",
    event: "Stop",
    cwd: t.repo,
    env: (n) => n === "GIT_PAW_AGENT_ID" ? "feat-a" : undefined,
    stdin: null,
    warn: () => {},
  });
  assert.equal(wrong, 1);
});
