/**
 * The real Claude Code 2.1 in tmux against the mock Anthropic API, in a temp
 * git repo with a linked worktree: pre-allowed `git paw` runs unasked, other
 * commands ask, the instruction file reaches the model, hooks fire, trust is
 * inherited by linked worktrees, `--continue` resumes. Facts:
 * docs/clis/claude.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBin } from "../_helpers/ai_clis.ts";
import {
  type ClaudeEnv,
  type ClaudeHook,
  seedClaudeHome,
  writeClaudeWorktreeSettings,
} from "../_helpers/ai_cli_claude.ts";
import {
  type MockModel,
  type Script,
  startMockModel,
} from "../fixtures/mock_model/server.ts";
import { claudeProvider } from "../fixtures/mock_model/claude.ts";

const WAIT_MS = 60_000;
const IDLE = "? for shortcuts";

type Rig = {
  root: string;
  repo: string;
  worktree: string;
  hooksDir: string;
  hookSh: string;
  mock: MockModel;
  env: ClaudeEnv;
  claude: string;
  /** Pane pids, to wait for the CLI to be gone before removing files. */
  pids: number[];
};

async function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`);
  }
  return dec.decode(out.stdout);
}

const git = (cwd: string, ...args: string[]) =>
  run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd });

/** Temp repo `proj` with linked worktree `proj-feat` beside it, a seeded HOME. */
async function makeRig(
  script: Script,
  opts: { trusted?: "repo" | "none" } = {},
): Promise<Rig> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "cc-" }));
  const repo = join(root, "proj");
  const worktree = join(root, "proj-feat");
  await Deno.mkdir(repo);
  await git(repo, "init", "-q", "-b", "main");
  await git(repo, "commit", "-q", "--allow-empty", "-m", "init");
  await git(repo, "worktree", "add", "-q", "-b", "feat", worktree);
  // A stand-in `git paw` on PATH: git runs `git-paw` for `git paw`.
  const bin = join(root, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "git-paw"),
    '#!/bin/sh\necho "FAKE-PAW-OUT args=$*"\n',
  );
  await Deno.chmod(join(bin, "git-paw"), 0o755);
  const hooksDir = join(root, "hooks");
  await Deno.mkdir(hooksDir);
  const hookSh = join(root, "hook.sh");
  await Deno.writeTextFile(
    hookSh,
    '#!/bin/sh\ncat > "$1/$2-$(date +%s%N).json"\n',
  );
  await Deno.chmod(hookSh, 0o755);
  const mock = startMockModel(script, { providers: [claudeProvider] });
  const env = await seedClaudeHome({
    home: join(root, "home"),
    baseUrl: mock.url,
    trusted: opts.trusted === "none" ? [] : [repo],
    idleNotifyMs: 2000,
  });
  env.PATH = `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
  return {
    root,
    repo,
    worktree,
    hooksDir,
    hookSh,
    mock,
    env,
    claude: await aiCliBin("claude"),
    pids: [],
  };
}

function tmux(rig: Rig, ...args: string[]): Promise<string> {
  return run("tmux", ["-L", "cc", ...args], {
    env: { ...rig.env, TMUX_TMPDIR: rig.root, SHELL: "/bin/sh" },
  });
}

async function launch(
  rig: Rig,
  name: string,
  cwd: string,
  args: string[],
): Promise<void> {
  await tmux(
    rig,
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    "120",
    "-y",
    "40",
    "-c",
    cwd,
    "--",
    rig.claude,
    ...args,
  );
  const pid = await tmux(rig, "display", "-p", "-t", name, "#{pane_pid}");
  rig.pids.push(Number(pid.trim()));
}

const screen = (rig: Rig, name: string) =>
  tmux(rig, "capture-pane", "-p", "-t", name).catch((e) => `(${e})`);

async function waitScreen(
  rig: Rig,
  name: string,
  needles: string[],
): Promise<string> {
  const end = Date.now() + WAIT_MS;
  let text = "";
  while (Date.now() < end) {
    text = await screen(rig, name);
    if (needles.every((n) => text.includes(n))) return text;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`screen never showed ${JSON.stringify(needles)}:\n${text}`);
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  onFail: () => Promise<string> = () => Promise.resolve(""),
): Promise<T> {
  const end = Date.now() + WAIT_MS;
  while (Date.now() < end) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}\n${await onFail()}`);
}

async function typeLine(rig: Rig, name: string, text: string) {
  await tmux(rig, "send-keys", "-t", name, "-l", text);
  await new Promise((r) => setTimeout(r, 400));
  await tmux(rig, "send-keys", "-t", name, "Enter");
}

async function hookEvents(
  rig: Rig,
): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const out = [];
  for await (const e of Deno.readDir(rig.hooksDir)) {
    const text = await Deno.readTextFile(join(rig.hooksDir, e.name));
    if (!text.trim()) continue;
    out.push({ event: e.name.split("-")[0]!, data: JSON.parse(text) });
  }
  return out;
}

/** A hook that saves its stdin as `<label>-<ns>.json` (label: the event). */
function hook(
  rig: Rig,
  event: string,
  matcher?: string,
  label = event,
): ClaudeHook {
  return {
    event,
    matcher,
    command: `'${rig.hookSh}' '${rig.hooksDir}' ${label}`,
  };
}

async function close(rig: Rig) {
  await tmux(rig, "kill-server").catch(() => {});
  // Let the CLIs exit before their HOME goes away.
  const end = Date.now() + 10_000;
  for (const pid of rig.pids) {
    while (Date.now() < end) {
      try {
        await Deno.stat(`/proc/${pid}`);
      } catch {
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  await rig.mock.close();
  await Deno.remove(rig.root, { recursive: true });
}

const modelCalls = (rig: Rig) => rig.mock.requests().filter((r) => r.step);

Deno.test("claude: pre-allowed git paw runs unasked, other commands ask, hooks report", async () => {
  let rig: Rig | undefined;
  try {
    rig = await makeRig({
      steps: [
        {
          id: "paw",
          when: "PAW-GO",
          reply: {
            text: "Running paw.",
            tools: [{
              name: "Bash",
              input: { command: "git paw status", description: "paw" },
            }],
          },
        },
        {
          id: "paw-seen",
          when: "FAKE-PAW-OUT",
          reply: { text: "TURN-ONE-DONE" },
        },
        {
          id: "touch",
          when: "PAW-TOUCH",
          reply: {
            tools: [{
              name: "Bash",
              input: { command: "touch blocked.txt", description: "touch" },
            }],
          },
        },
      ],
    });
    const r = rig;
    await writeClaudeWorktreeSettings(r.worktree, {
      allow: ["Bash(git paw:*)"],
      hooks: [
        hook(r, "UserPromptSubmit"),
        hook(r, "PreToolUse", "Bash"),
        hook(r, "Stop"),
        hook(r, "Notification", "permission_prompt", "NotifyPerm"),
        hook(r, "Notification", "idle_prompt", "NotifyIdle"),
      ],
    });
    await launch(r, "a", r.worktree, ["PAW-GO please"]);
    await waitScreen(r, "a", ["TURN-ONE-DONE", IDLE]);
    const seen = modelCalls(r).find((q) => q.step === "paw-seen");
    assert.ok(seen, "the tool result came back to the model");
    assert.match(seen.turn, /FAKE-PAW-OUT args=status/);

    const stop = await waitFor(
      "Stop hook",
      async () => (await hookEvents(r)).find((e) => e.event === "Stop"),
    );
    assert.equal(stop.data.hook_event_name, "Stop");
    assert.equal(stop.data.cwd, r.worktree);
    assert.equal(typeof stop.data.session_id, "string");
    const events = await hookEvents(r);
    const submit = events.find((e) => e.event === "UserPromptSubmit");
    assert.equal(submit?.data.prompt, "PAW-GO please");
    const pre = events.find((e) => e.event === "PreToolUse");
    assert.equal(pre?.data.tool_name, "Bash");
    assert.deepEqual(
      (pre?.data.tool_input as { command: string }).command,
      "git paw status",
    );
    const idle = await waitFor(
      "idle_prompt Notification hook",
      async () => (await hookEvents(r)).find((e) => e.event === "NotifyIdle"),
    );
    assert.equal(idle.data.notification_type, "idle_prompt");

    await typeLine(r, "a", "PAW-TOUCH now");
    await waitScreen(r, "a", ["Do you want to proceed?", "touch blocked.txt"]);
    const note = await waitFor(
      "permission_prompt Notification hook",
      async () => (await hookEvents(r)).find((e) => e.event === "NotifyPerm"),
      () => screen(r, "a"),
    );
    assert.equal(note.data.notification_type, "permission_prompt");
    assert.equal(note.data.message, "Claude needs your permission");
    for (const e of await hookEvents(r)) {
      if (e.event === "NotifyIdle") {
        assert.equal(e.data.notification_type, "idle_prompt");
      }
    }
    await assert.rejects(Deno.stat(join(r.worktree, "blocked.txt")));
    await tmux(r, "send-keys", "-t", "a", "Escape");
  } finally {
    if (rig) await close(rig);
  }
});

Deno.test("claude: CLAUDE.md importing AGENTS.md (git-ignored) and AGENTS.md alone reach the model", async () => {
  let rig: Rig | undefined;
  try {
    rig = await makeRig({ steps: [], fallback: { text: "NOTED" } });
    const r = rig;
    await Deno.writeTextFile(
      join(r.worktree, "AGENTS.md"),
      "Rule PAW-IMPORTED-7f3: say hi.\n",
    );
    await Deno.writeTextFile(join(r.worktree, "CLAUDE.md"), "@AGENTS.md\n");
    await Deno.writeTextFile(
      join(r.repo, ".git", "info", "exclude"),
      "CLAUDE.md\nAGENTS.md\n",
    );
    assert.equal((await git(r.worktree, "status", "--short")).trim(), "");
    await Deno.writeTextFile(
      join(r.repo, "AGENTS.md"),
      "Rule PAW-ALONE-9c1: say bye.\n",
    );
    await writeClaudeWorktreeSettings(r.worktree, {});

    await launch(r, "wt", r.worktree, ["hello from worktree"]);
    const inWt = await waitFor(
      "model call from the worktree",
      () => modelCalls(r).find((q) => q.turn.includes("hello from worktree")),
      () => screen(r, "wt"),
    );
    const wtMsgs = JSON.stringify(
      (inWt.body as { messages: unknown }).messages,
    );
    assert.ok(wtMsgs.includes("PAW-IMPORTED-7f3"), "imported AGENTS.md text");
    assert.ok(!wtMsgs.includes("PAW-ALONE-9c1"));

    await launch(r, "main", r.repo, ["hello from main"]);
    const inMain = await waitFor(
      "model call from the main checkout",
      () => modelCalls(r).find((q) => q.turn.includes("hello from main")),
      () => screen(r, "main"),
    );
    const mainMsgs = JSON.stringify(
      (inMain.body as { messages: unknown }).messages,
    );
    assert.ok(
      mainMsgs.includes("PAW-ALONE-9c1"),
      "AGENTS.md without CLAUDE.md",
    );
  } finally {
    if (rig) await close(rig);
  }
});

Deno.test("claude: --continue with a prompt after -- resumes the last conversation", async () => {
  let rig: Rig | undefined;
  try {
    rig = await makeRig({
      steps: [
        {
          id: "one",
          when: "FIRST-PROMPT-ab",
          reply: { text: "FIRST-REPLY-cd" },
        },
        {
          id: "two",
          when: "SECOND-PROMPT-ef",
          reply: { text: "SECOND-REPLY" },
        },
      ],
    });
    const r = rig;
    await writeClaudeWorktreeSettings(r.worktree, {});
    // A variadic option before the prompt: `--` keeps the prompt a prompt.
    await launch(r, "one", r.worktree, [
      "--allowedTools",
      "Bash(git paw:*)",
      "--",
      "FIRST-PROMPT-ab",
    ]);
    await waitScreen(r, "one", ["FIRST-REPLY-cd", IDLE]);
    await tmux(r, "kill-session", "-t", "one");
    await launch(r, "two", r.worktree, [
      "--continue",
      "--allowedTools",
      "Bash(git paw:*)",
      "--",
      "SECOND-PROMPT-ef",
    ]);
    await waitScreen(r, "two", ["SECOND-REPLY", IDLE]);
    const two = modelCalls(r).find((q) => q.step === "two");
    const msgs = JSON.stringify((two?.body as { messages: unknown }).messages);
    assert.ok(msgs.includes("FIRST-PROMPT-ab"), "old prompt resent");
    assert.ok(msgs.includes("FIRST-REPLY-cd"), "old reply resent");
  } finally {
    if (rig) await close(rig);
  }
});

Deno.test("claude: a linked worktree of a trusted repo is trusted; an untrusted folder asks", async () => {
  let rig: Rig | undefined;
  try {
    rig = await makeRig({ steps: [] });
    const r = rig;
    await writeClaudeWorktreeSettings(r.worktree, {});
    await launch(r, "wt", r.worktree, []);
    const wt = await waitScreen(r, "wt", [IDLE]);
    assert.ok(!wt.includes("Accessing workspace"), wt);

    const other = join(r.root, "other");
    await Deno.mkdir(other);
    await git(other, "init", "-q", "-b", "main");
    await launch(r, "other", other, []);
    await waitScreen(r, "other", [
      "Accessing workspace",
      "Yes, I trust this folder",
    ]);
  } finally {
    if (rig) await close(rig);
  }
});
