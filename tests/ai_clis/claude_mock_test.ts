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
  type LoggedRequest,
  type MockModel,
  type Script,
  startMockModel,
} from "../fixtures/mock_model/server.ts";
import { claudeProvider } from "../fixtures/mock_model/claude.ts";
import { waitFor } from "../_helpers/wait.ts";
import { addWorktree, initRepo } from "../_helpers/repo.ts";

const WAIT_MS = 60_000;
/** Footer of the idle prompt in `default` permission mode. */
const IDLE = "? for shortcuts";

/** A temp repo + linked worktree + seeded HOME + mock; disposing ends all. */
type Rig = AsyncDisposable & {
  root: string;
  repo: string;
  worktree: string;
  hooksDir: string;
  hookSh: string;
  mock: MockModel;
  env: ClaudeEnv;
  claude: string;
  /** Pane pids, to wait for the CLIs to be gone before removing files. */
  pids: number[];
};

/** One tmux session running the CLI. */
type Pane = { rig: Rig; name: string };

type HookEvent = { label: string; data: Record<string, unknown> };

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
    throw new Error(
      `Cannot run ${cmd} ${args.join(" ")}: ${dec.decode(out.stderr)}`,
    );
  }
  return dec.decode(out.stdout);
}

function git(cwd: string, ...args: string[]): Promise<string> {
  return run("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], {
    cwd,
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function executable(path: string, text: string): Promise<void> {
  await Deno.writeTextFile(path, text);
  await Deno.chmod(path, 0o755);
}

/** Temp repo `proj` with linked worktree `proj-feat` beside it, a seeded HOME. */
async function makeRig(script: Script): Promise<Rig> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "cc-" }));
  const repo = join(root, "proj");
  const worktree = join(root, "proj-feat");
  await initRepo(repo, { files: {} });
  await addWorktree(repo, "feat", worktree);
  // A stand-in `git paw` on PATH: git runs `git-paw` for `git paw`.
  const bin = join(root, "bin");
  await Deno.mkdir(bin);
  await executable(
    join(bin, "git-paw"),
    '#!/bin/sh\necho "FAKE-PAW-OUT args=$*"\n',
  );
  const hooksDir = join(root, "hooks");
  await Deno.mkdir(hooksDir);
  const hookSh = join(root, "hook.sh");
  await executable(hookSh, '#!/bin/sh\ncat > "$1/$2-$(date +%s%N).json"\n');
  const mock = startMockModel(script, { providers: [claudeProvider] });
  const env = await seedClaudeHome({
    home: join(root, "home"),
    baseUrl: mock.url,
    trusted: [repo],
    idleNotifyMs: 2000,
  });
  env.PATH = `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`;
  const rig: Rig = {
    root,
    repo,
    worktree,
    hooksDir,
    hookSh,
    mock,
    env,
    claude: await aiCliBin("claude"),
    pids: [],
    async [Symbol.asyncDispose]() {
      await tmux(rig, "kill-server").catch(() => {});
      // Let the CLIs exit before their HOME goes away.
      const end = Date.now() + 10_000;
      for (const pid of rig.pids) {
        while (Date.now() < end && (await isAlive(pid))) await sleep(100);
      }
      await mock.close();
      await Deno.remove(root, { recursive: true });
    },
  };
  return rig;
}

async function isAlive(pid: number): Promise<boolean> {
  try {
    await Deno.stat(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

function tmux(rig: Rig, ...args: string[]): Promise<string> {
  return run("tmux", ["-L", "cc", ...args], {
    env: { ...rig.env, TMUX_TMPDIR: rig.root, SHELL: "/bin/sh" },
  });
}

/** Start `claude ...args` in a new 120x40 tmux session. */
async function launch(
  rig: Rig,
  opts: { name: string; cwd: string; args: string[] },
): Promise<Pane> {
  const args = [
    ...["new-session", "-d", "-s", opts.name, "-x", "120", "-y", "40"],
    ...["-c", opts.cwd, "--", rig.claude, ...opts.args],
  ];
  // Right after its last session was killed, the server may still be
  // exiting: a new-session that reaches it then fails and is retried.
  for (let attempt = 0;; attempt++) {
    try {
      await tmux(rig, ...args);
      break;
    } catch (e) {
      if (attempt >= 4 || !/server exited unexpectedly/.test(String(e))) {
        throw e;
      }
      await sleep(200);
    }
  }
  const pid = await tmux(rig, "display", "-p", "-t", opts.name, "#{pane_pid}");
  rig.pids.push(Number(pid.trim()));
  return { rig, name: opts.name };
}

function screen(p: Pane): Promise<string> {
  return tmux(p.rig, "capture-pane", "-p", "-t", p.name).catch((e) => `(${e})`);
}

function waitScreen(p: Pane, needles: string[]): Promise<string> {
  return waitUntil(
    `the screen to show ${JSON.stringify(needles)}`,
    async () => {
      const text = await screen(p);
      return needles.every((n) => text.includes(n)) ? text : undefined;
    },
    () => screen(p),
  );
}

function waitUntil<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  onFail: () => Promise<string> = () => Promise.resolve(""),
): Promise<T> {
  return waitFor(what, probe, {
    timeoutMs: WAIT_MS,
    intervalMs: 250,
    detail: onFail,
  }) as Promise<T>;
}

async function typeLine(p: Pane, text: string): Promise<void> {
  await tmux(p.rig, "send-keys", "-t", p.name, "-l", text);
  await sleep(400);
  await tmux(p.rig, "send-keys", "-t", p.name, "Enter");
}

async function hookEvents(rig: Rig): Promise<HookEvent[]> {
  const out: HookEvent[] = [];
  for await (const e of Deno.readDir(rig.hooksDir)) {
    const text = await Deno.readTextFile(join(rig.hooksDir, e.name));
    if (!text.trim()) continue; // still being written
    out.push({ label: e.name.split("-")[0]!, data: JSON.parse(text) });
  }
  return out;
}

function waitHook(rig: Rig, label: string, p?: Pane): Promise<HookEvent> {
  return waitUntil(
    `the ${label} hook`,
    async () => (await hookEvents(rig)).find((e) => e.label === label),
    () => p ? screen(p) : Promise.resolve(""),
  );
}

/** A hook that saves its stdin as `<label>-<ns>.json` (label: the event). */
function hook(
  rig: Rig,
  h: { event: string; matcher?: string; label?: string },
): ClaudeHook {
  return {
    event: h.event,
    matcher: h.matcher,
    command: `'${rig.hookSh}' '${rig.hooksDir}' ${h.label ?? h.event}`,
  };
}

function modelCalls(rig: Rig): LoggedRequest[] {
  return rig.mock.requests().filter((r) => r.step);
}

function messagesOf(r: LoggedRequest | undefined): string {
  return JSON.stringify((r?.body as { messages?: unknown })?.messages ?? null);
}

function bash(command: string) {
  return { name: "Bash", input: { command, description: "run it" } };
}

Deno.test("claude: pre-allowed git paw runs unasked, other commands ask, hooks report", async () => {
  await using rig = await makeRig({
    steps: [
      {
        id: "paw",
        when: "PAW-GO",
        reply: { text: "Running paw.", tools: [bash("git paw status")] },
      },
      {
        id: "paw-seen",
        when: "FAKE-PAW-OUT",
        reply: { text: "TURN-ONE-DONE" },
      },
      {
        id: "touch",
        when: "PAW-TOUCH",
        reply: { tools: [bash("touch blocked.txt")] },
      },
    ],
  });
  await writeClaudeWorktreeSettings(rig.worktree, {
    allow: ["Bash(git paw:*)"],
    hooks: [
      hook(rig, { event: "UserPromptSubmit" }),
      hook(rig, { event: "PreToolUse", matcher: "Bash" }),
      hook(rig, { event: "Stop" }),
      hook(rig, {
        event: "Notification",
        matcher: "permission_prompt",
        label: "NotifyPerm",
      }),
      hook(rig, {
        event: "Notification",
        matcher: "idle_prompt",
        label: "NotifyIdle",
      }),
    ],
  });
  const pane = await launch(rig, {
    name: "a",
    cwd: rig.worktree,
    args: ["PAW-GO please"],
  });
  await waitScreen(pane, ["TURN-ONE-DONE", IDLE]);
  const seen = modelCalls(rig).find((q) => q.step === "paw-seen");
  assert.ok(seen, "the tool result came back to the model");
  assert.match(seen.turn, /FAKE-PAW-OUT args=status/);

  const stop = await waitHook(rig, "Stop", pane);
  assert.equal(stop.data.hook_event_name, "Stop");
  assert.equal(stop.data.cwd, rig.worktree);
  assert.equal(typeof stop.data.session_id, "string");
  const events = await hookEvents(rig);
  const submit = events.find((e) => e.label === "UserPromptSubmit");
  assert.equal(submit?.data.prompt, "PAW-GO please");
  const pre = events.find((e) => e.label === "PreToolUse");
  assert.equal(pre?.data.tool_name, "Bash");
  assert.deepEqual(pre?.data.tool_input, {
    command: "git paw status",
    description: "run it",
  });
  const idle = await waitHook(rig, "NotifyIdle", pane);
  assert.equal(idle.data.notification_type, "idle_prompt");

  await typeLine(pane, "PAW-TOUCH now");
  await waitScreen(pane, ["Do you want to proceed?", "touch blocked.txt"]);
  const note = await waitHook(rig, "NotifyPerm", pane);
  assert.equal(note.data.notification_type, "permission_prompt");
  assert.equal(note.data.message, "Claude needs your permission");
  for (const e of await hookEvents(rig)) {
    if (e.label === "NotifyIdle") {
      assert.equal(e.data.notification_type, "idle_prompt");
    }
  }
  await assert.rejects(
    Deno.stat(join(rig.worktree, "blocked.txt")),
    Deno.errors.NotFound,
  );
  await tmux(rig, "send-keys", "-t", pane.name, "Escape");
});

Deno.test("claude: CLAUDE.md importing AGENTS.md (git-ignored) and AGENTS.md alone reach the model", async () => {
  await using rig = await makeRig({ steps: [], fallback: { text: "NOTED" } });
  await Deno.writeTextFile(
    join(rig.worktree, "AGENTS.md"),
    "Rule PAW-IMPORTED-7f3: say hi.\n",
  );
  await Deno.writeTextFile(join(rig.worktree, "CLAUDE.md"), "@AGENTS.md\n");
  await Deno.writeTextFile(
    join(rig.repo, ".git", "info", "exclude"),
    "CLAUDE.md\nAGENTS.md\n",
  );
  assert.equal((await git(rig.worktree, "status", "--short")).trim(), "");
  await Deno.writeTextFile(
    join(rig.repo, "AGENTS.md"),
    "Rule PAW-ALONE-9c1: say bye.\n",
  );
  await writeClaudeWorktreeSettings(rig.worktree, {});

  const wt = await launch(rig, {
    name: "wt",
    cwd: rig.worktree,
    args: ["hello from worktree"],
  });
  const inWt = messagesOf(
    await waitUntil(
      "the model call from the worktree",
      () => modelCalls(rig).find((q) => q.turn.includes("hello from worktree")),
      () => screen(wt),
    ),
  );
  assert.ok(inWt.includes("PAW-IMPORTED-7f3"), "imported AGENTS.md text");
  assert.ok(!inWt.includes("PAW-ALONE-9c1"));

  const main = await launch(rig, {
    name: "main",
    cwd: rig.repo,
    args: ["hello from main"],
  });
  const inMain = messagesOf(
    await waitUntil(
      "the model call from the main checkout",
      () => modelCalls(rig).find((q) => q.turn.includes("hello from main")),
      () => screen(main),
    ),
  );
  assert.ok(inMain.includes("PAW-ALONE-9c1"), "AGENTS.md without CLAUDE.md");
});

Deno.test("claude: --continue with a prompt after -- resumes the last conversation", async () => {
  await using rig = await makeRig({
    steps: [
      { id: "one", when: "FIRST-PROMPT-ab", reply: { text: "FIRST-REPLY-cd" } },
      { id: "two", when: "SECOND-PROMPT-ef", reply: { text: "SECOND-REPLY" } },
    ],
  });
  await writeClaudeWorktreeSettings(rig.worktree, {});
  // A variadic option before the prompt: `--` keeps the prompt a prompt.
  const one = await launch(rig, {
    name: "one",
    cwd: rig.worktree,
    args: ["--allowedTools", "Bash(git paw:*)", "--", "FIRST-PROMPT-ab"],
  });
  await waitScreen(one, ["FIRST-REPLY-cd", IDLE]);
  await tmux(rig, "kill-session", "-t", one.name);
  const two = await launch(rig, {
    name: "two",
    cwd: rig.worktree,
    args: [
      "--continue",
      "--allowedTools",
      "Bash(git paw:*)",
      "--",
      "SECOND-PROMPT-ef",
    ],
  });
  await waitScreen(two, ["SECOND-REPLY", IDLE]);
  const msgs = messagesOf(modelCalls(rig).find((q) => q.step === "two"));
  assert.ok(msgs.includes("FIRST-PROMPT-ab"), "old prompt resent");
  assert.ok(msgs.includes("FIRST-REPLY-cd"), "old reply resent");
});

Deno.test("claude: a linked worktree of a trusted repo is trusted; an untrusted folder asks", async () => {
  await using rig = await makeRig({ steps: [] });
  await writeClaudeWorktreeSettings(rig.worktree, {});
  const wt = await launch(rig, { name: "wt", cwd: rig.worktree, args: [] });
  const text = await waitScreen(wt, [IDLE]);
  assert.ok(!text.includes("Accessing workspace"), text);

  const other = join(rig.root, "other");
  await initRepo(other, { empty: true });
  const pane = await launch(rig, { name: "other", cwd: other, args: [] });
  await waitScreen(pane, ["Accessing workspace", "Yes, I trust this folder"]);
});
