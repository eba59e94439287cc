/**
 * The real Codex CLI 0.169 in tmux against the scripted mock model, in a
 * temp repo with linked worktrees: the facts git-paw's Codex profile relies
 * on (docs/clis/codex.md).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBin } from "../_helpers/ai_clis.ts";
import {
  CODEX_UNATTENDED_ARGS,
  seedCodexHome,
  stopCodexDaemon,
  writeCodexHooks,
  writeCodexWorktreeSettings,
} from "../_helpers/ai_cli_codex.ts";
import {
  type MockModel,
  type Script,
  startMockModel,
} from "../fixtures/mock_model/server.ts";
import { codexProvider } from "../fixtures/mock_model/codex.ts";
import { waitFor } from "../_helpers/wait.ts";
import { initRepo } from "../_helpers/repo.ts";

const IDLE = "Ask Codex to do anything";
const AGENTS_MARK = "AGENTS-MARK-7f3e: always sign off with PAW.";

/** A temp repo + seeded HOME + mock + tmux server; disposing ends all. */
type Rig = AsyncDisposable & {
  root: string;
  repo: string;
  home: string;
  bin: string;
  hooksLog: string;
  env: Record<string, string>;
  mock: MockModel;
  codex: string;
  tmuxEnv: Record<string, string>;
  worktree(name: string): Promise<string>;
  launch(
    name: string,
    cwd: string,
    args: string[],
    env?: Record<string, string>,
  ): Promise<void>;
  screen(name: string): Promise<string>;
  waitScreen(name: string, text: string): Promise<string>;
  waitRequest(pred: (turn: string) => boolean, what: string): Promise<string>;
  keys(name: string, ...keys: string[]): Promise<void>;
  /** Quit a pane's CLI and wait until its process is gone. */
  quit(name: string): Promise<void>;
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
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(
      `${cmd} ${args.join(" ")} failed: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text;
}

function poll<T>(
  what: string,
  probe: () => Promise<T | null>,
  last: () => Promise<string>,
  timeoutMs = 60_000,
): Promise<T> {
  return waitFor(what, probe, {
    timeoutMs,
    intervalMs: 300,
    detail: last,
  }) as Promise<T>;
}

/** A script, or one built from the mock's URL (for loopback curl targets). */
type ScriptSource = Script | ((mockUrl: string) => Script);

async function makeRig(source: ScriptSource): Promise<Rig> {
  const root = await Deno.makeTempDir({ prefix: "paw_codex_" });
  const repo = join(root, "repo");
  const home = join(root, "home");
  const bin = join(root, "bin");
  const hooksLog = join(root, "hooks.jsonl");
  await Deno.mkdir(repo, { recursive: true });
  await Deno.mkdir(bin, { recursive: true });
  await initRepo(repo, { files: { "AGENTS.md": AGENTS_MARK + "\n" } });
  // stand-in for the git-paw binary: `git paw …` resolves to it on PATH
  await Deno.writeTextFile(
    join(bin, "git-paw"),
    '#!/bin/sh\necho "PAW-OK agent=$GIT_PAW_AGENT_ID args=$*"\n',
  );
  await Deno.chmod(join(bin, "git-paw"), 0o755);
  await Deno.writeTextFile(
    join(bin, "hook.sh"),
    `#!/bin/sh\n# $1 = event; stdin = the event JSON\nin=$(cat)\nprintf '{"event":"%s","agent":"%s","input":%s}\\n' "$1" "$GIT_PAW_AGENT_ID" "$in" >> ${
      JSON.stringify(hooksLog)
    }\n`,
  );
  await Deno.chmod(join(bin, "hook.sh"), 0o755);
  const script: Script = { steps: [] };
  const mock = startMockModel(script, { providers: [codexProvider] });
  Object.assign(
    script,
    typeof source === "function" ? source(mock.url) : source,
  );
  const env = await seedCodexHome(home, {
    mockUrl: mock.url,
    trustedRepos: [repo],
  });
  await writeCodexHooks(env.CODEX_HOME!, join(bin, "hook.sh"));
  const codex = await aiCliBin("codex");
  const tmuxEnv = { TMUX_TMPDIR: root, TMUX: "" };
  const tmux = (...args: string[]) =>
    run("tmux", ["-L", "codex", ...args], { env: tmuxEnv });
  const screen = (name: string) =>
    tmux("capture-pane", "-p", "-t", name).catch((e) => String(e));
  const rig: Rig = {
    root,
    repo,
    home,
    bin,
    hooksLog,
    env,
    mock,
    codex,
    tmuxEnv,
    async worktree(name) {
      const wt = join(root, name);
      await run("git", ["worktree", "add", "-q", "-b", name, wt], {
        cwd: repo,
      });
      await writeCodexWorktreeSettings(wt);
      return wt;
    },
    async launch(name, cwd, args, extra = {}) {
      // tmux 3.3 does not pass `-e PATH=…` to the first command: use env(1)
      const vars = {
        ...env,
        PATH: `${bin}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}`,
        ...extra,
      };
      const envArgs = Object.entries(vars).map(([k, v]) => `${k}=${v}`);
      const hasServer = await tmux("has-session").then(() => true, () => false);
      await tmux(
        hasServer ? "new-window" : "new-session",
        ...(hasServer ? ["-d", "-n", name] : ["-d", "-s", "t", "-n", name]),
        ...(hasServer ? [] : ["-x", "120", "-y", "40"]),
        "-c",
        cwd,
        "env",
        ...envArgs,
        codex,
        ...args,
      );
      await tmux("set-option", "-w", "-t", `t:${name}`, "remain-on-exit", "on");
    },
    screen: (name) => screen(`t:${name}`),
    waitScreen(name, text) {
      return poll(
        `"${text}" on ${name}`,
        async () => {
          const s = await screen(`t:${name}`);
          return s.includes(text) ? s : null;
        },
        () => screen(`t:${name}`),
      );
    },
    waitRequest(pred, what) {
      return poll(
        what,
        () => {
          const r = mock.requests().find((q) => q.step && pred(q.turn));
          return Promise.resolve(r ? r.turn : null);
        },
        async () =>
          JSON.stringify(
            mock.requests().map((r) => [r.step, r.turn.slice(0, 300)]),
          ) +
          "\n" + (await screen("t")),
      );
    },
    async keys(name, ...keys) {
      await tmux("send-keys", "-t", `t:${name}`, ...keys);
    },
    async quit(name) {
      const pid =
        (await tmux("display-message", "-p", "-t", `t:${name}`, "#{pane_pid}"))
          .trim();
      await tmux("send-keys", "-t", `t:${name}`, "C-c");
      await new Promise((r) => setTimeout(r, 300));
      await tmux("send-keys", "-t", `t:${name}`, "C-c");
      await poll(
        `${name} to exit`,
        async () => {
          const alive = await Deno.stat(`/proc/${pid}`).then(
            () => true,
            () => false,
          );
          return alive ? null : true;
        },
        () => screen(`t:${name}`),
        20_000,
      ).catch(async () => {
        await run("kill", [pid]);
      });
    },
    async [Symbol.asyncDispose]() {
      // a daemon a test let start (none normally) must not outlive it
      await stopCodexDaemon(codex, env.CODEX_HOME!);
      await tmux("kill-server").catch(() => {});
      await mock.close();
      await Deno.remove(root, { recursive: true }).catch(() => {});
    },
  };
  return rig;
}

async function hookEvents(
  rig: Rig,
): Promise<
  Array<{ event: string; agent: string; input: Record<string, unknown> }>
> {
  const text = await Deno.readTextFile(rig.hooksLog).catch(() => "");
  return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

Deno.test({
  name:
    "codex: a pre-allowed `git paw` runs unprompted, AGENTS.md reaches the model, hooks fire, commits reach the linked worktree",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using rig = await makeRig((url) => ({
    steps: [
      {
        id: "paw",
        when: "PAW-START",
        reply: {
          text: "Checking in.",
          tools: [{
            name: "shell",
            input: { cmd: "git paw status --agent; echo PATH=$PATH" },
          }],
        },
      },
      {
        id: "commit",
        when: "PAW-OK",
        reply: {
          text: "Committing.",
          tools: [{
            name: "shell",
            input: {
              // curl's target is the mock itself: a loopback HTTP server
              cmd:
                `git commit -q --allow-empty -m from-codex && echo COMMIT-OK; curl -s -o /dev/null -w 'curl=%{http_code}\\n' ${url}/v1/models`,
            },
          }],
        },
      },
      { id: "end", when: "COMMIT-OK", reply: { text: "All wrapped up." } },
    ],
  }));
  const wt = await rig.worktree("feat-a");
  await rig.launch(
    "a",
    wt,
    [...CODEX_UNATTENDED_ARGS, "--", "PAW-START go"],
    {
      GIT_PAW_AGENT_ID: "agent-a",
    },
  );
  const pawOut = await rig.waitRequest(
    (t) => t.includes("PAW-OK"),
    "git paw output",
  );
  assert.match(pawOut, /PAW-OK agent=agent-a args=status --agent/);
  // not a login shell: the pane's PATH (with our bin dir) survives
  assert.ok(pawOut.includes(`PATH=`) && pawOut.includes(rig.bin), pawOut);
  const commitOut = await rig.waitRequest(
    (t) => t.includes("COMMIT-OK"),
    "commit output",
  );
  assert.match(commitOut, /curl=200/);
  await rig.waitScreen("a", "All wrapped up.");
  const screen = await rig.waitScreen("a", IDLE);
  assert.ok(!screen.includes("Would you like to run"), screen);
  assert.ok(!screen.includes("Trust this folder"), screen);
  const log = await run("git", ["log", "--format=%s", "-1", "feat-a"], {
    cwd: rig.repo,
  });
  assert.equal(log.trim(), "from-codex");
  // the instruction file's text is in the first model request
  const first = rig.mock.requests().find((r) => r.step === "paw")!;
  assert.ok(JSON.stringify(first.body).includes(AGENTS_MARK));
  // hooks: each got its JSON on stdin and ran with the pane's env
  const events = await poll("the Stop hook", async () => {
    const ev = await hookEvents(rig);
    return ev.some((e) => e.event === "Stop") ? ev : null;
  }, async () => JSON.stringify(await hookEvents(rig)));
  const names = new Set(events.map((e) => e.event));
  for (
    const ev of [
      "SessionStart",
      "UserPromptSubmit",
      "PreToolUse",
      "PostToolUse",
      "Stop",
    ]
  ) {
    assert.ok(names.has(ev), `no ${ev} hook in ${[...names]}`);
  }
  const pre = events.find((e) => e.event === "PreToolUse")!;
  assert.equal(pre.agent, "agent-a");
  assert.equal(pre.input.tool_name, "Bash");
  assert.match(
    String((pre.input.tool_input as { command: string }).command),
    /git paw status/,
  );
  assert.equal(pre.input.cwd, wt);
  const prompt = events.find((e) => e.event === "UserPromptSubmit")!;
  assert.equal(prompt.input.prompt, "PAW-START go");
});

Deno.test({
  name:
    "codex: a command that must leave the sandbox shows the permission prompt and the PermissionRequest hook",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using rig = await makeRig({
    steps: [{
      id: "escalate",
      when: "ESCALATE",
      reply: {
        text: "Need more access.",
        tools: [{
          name: "shell",
          input: {
            cmd: "touch /etc/paw-codex-escalation",
            sandbox_permissions: "require_escalated",
            justification: "Write outside the worktree",
          },
        }],
      },
    }],
  });
  const wt = await rig.worktree("feat-b");
  await rig.launch(
    "b",
    wt,
    [...CODEX_UNATTENDED_ARGS, "--", "ESCALATE now"],
    {
      GIT_PAW_AGENT_ID: "agent-b",
    },
  );
  const screen = await rig.waitScreen(
    "b",
    "Would you like to run the following command?",
  );
  assert.match(screen, /touch \/etc\/paw-codex-escalation/);
  assert.match(screen, /Yes, proceed \(y\)/);
  const events = await poll("the PermissionRequest hook", async () => {
    const ev = await hookEvents(rig);
    return ev.some((e) => e.event === "PermissionRequest") ? ev : null;
  }, async () => JSON.stringify(await hookEvents(rig)));
  const req = events.find((e) => e.event === "PermissionRequest")!;
  assert.equal(
    (req.input.tool_input as { command: string }).command,
    "touch /etc/paw-codex-escalation",
  );
  // declining returns to the idle prompt
  await rig.keys("b", "Escape");
  await rig.waitScreen("b", IDLE);
});

Deno.test({
  name: "codex: with --no-daemon two panes run commands with their own env",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const envStep = (id: string) => ({
    id,
    when: "WHOAMI",
    reply: {
      tools: [{ name: "shell", input: { cmd: "echo ID=$GIT_PAW_AGENT_ID" } }],
    },
  });
  await using rig = await makeRig({ steps: [envStep("one"), envStep("two")] });
  const wt1 = await rig.worktree("feat-1");
  const wt2 = await rig.worktree("feat-2");
  await rig.launch("p1", wt1, [...CODEX_UNATTENDED_ARGS, "--", "WHOAMI 1"], {
    GIT_PAW_AGENT_ID: "agent-1",
  });
  await rig.waitRequest((t) => t.includes("ID=agent-1"), "pane 1 output");
  await rig.launch("p2", wt2, [...CODEX_UNATTENDED_ARGS, "--", "WHOAMI 2"], {
    GIT_PAW_AGENT_ID: "agent-2",
  });
  await rig.waitRequest((t) => t.includes("ID=agent-2"), "pane 2 output");
  const ids = rig.mock.requests().flatMap((r) =>
    r.turn.match(/ID=agent-\d/g) ?? []
  );
  assert.deepEqual([...new Set(ids)].sort(), ["ID=agent-1", "ID=agent-2"]);
  // no shared app-server was started under CODEX_HOME
  const pid = await Deno.stat(
    join(rig.env.CODEX_HOME!, "app-server-daemon", "daemon.pid"),
  )
    .then(() => true, () => false);
  assert.equal(pid, false);
});

Deno.test({
  name:
    "codex: without --no-daemon the second pane's commands carry the first pane's env (the shared daemon); --no-daemon escapes it",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const envStep = (id: string) => ({
    id,
    when: "WHOAMI",
    reply: {
      tools: [{ name: "shell", input: { cmd: "echo ID=$GIT_PAW_AGENT_ID" } }],
    },
  });
  await using rig = await makeRig({
    steps: [envStep("one"), envStep("two"), envStep("three")],
  });
  // `--dangerously-bypass-hook-trust` alone keeps Codex off the daemon, so
  // this launch goes without it, and without hooks (they would need review)
  const daemonArgs: string[] = [];
  await Deno.remove(join(rig.env.CODEX_HOME!, "hooks.json"));
  // a user's default: the daemon starts on demand
  const config = join(rig.env.CODEX_HOME!, "config.toml");
  await Deno.writeTextFile(
    config,
    (await Deno.readTextFile(config)).replace(
      "daemon_auto_start = false",
      "daemon_auto_start = true",
    ),
  );
  const wt1 = await rig.worktree("feat-d1");
  const wt2 = await rig.worktree("feat-d2");
  await rig.launch("d1", wt1, [...daemonArgs, "--", "WHOAMI 1"], {
    GIT_PAW_AGENT_ID: "agent-1",
  });
  await rig.waitRequest((t) => t.includes("ID=agent-1"), "pane 1 output");
  // pane 1 starts the daemon in the background; pane 2 attaches once it is up
  const sock = join(
    rig.env.CODEX_HOME!,
    "app-server-control",
    "app-server-control.sock",
  );
  await poll(
    "the daemon socket",
    () => Deno.stat(sock).then(() => true, () => null),
    () => rig.screen("d1"),
  );
  await rig.launch("d2", wt2, [...daemonArgs, "--", "WHOAMI 2"], {
    GIT_PAW_AGENT_ID: "agent-2",
  });
  const outs = await poll("both commands' output", () => {
    const o = rig.mock.requests().filter((r) => /ID=agent-\d/.test(r.turn));
    return Promise.resolve(o.length >= 2 ? o : null);
  }, () => rig.screen("d2"));
  const ids = outs.flatMap((r) => r.turn.match(/ID=agent-\d/g) ?? []);
  // pane 2 set agent-2, yet its command ran with pane 1's env
  assert.deepEqual(ids, ["ID=agent-1", "ID=agent-1"]);
  const pid = JSON.parse(
    await Deno.readTextFile(
      join(rig.env.CODEX_HOME!, "app-server-daemon", "daemon.pid"),
    ),
  ).pid;
  assert.ok(pid > 0);
  // --no-daemon: a third pane runs its own app-server despite the daemon
  const wt3 = await rig.worktree("feat-d3");
  await rig.launch("d3", wt3, ["--no-daemon", "--", "WHOAMI 3"], {
    GIT_PAW_AGENT_ID: "agent-3",
  });
  await rig.waitRequest((t) => t.includes("ID=agent-3"), "pane 3 output");
});

Deno.test({
  name:
    "codex: `resume --last -- PROMPT` continues the last conversation in the same dir",
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using rig = await makeRig({
    steps: [
      {
        id: "first",
        when: "FIRST-TURN",
        reply: { text: "Noted the first turn." },
      },
      { id: "second", when: "SECOND-TURN", reply: { text: "Back again." } },
    ],
  });
  const wt = await rig.worktree("feat-r");
  await rig.launch("r1", wt, [
    ...CODEX_UNATTENDED_ARGS,
    "--",
    "FIRST-TURN hello",
  ]);
  await rig.waitScreen("r1", "Noted the first turn.");
  await rig.waitScreen("r1", IDLE);
  // a conversation open in a live Codex is locked ("open in another app")
  await rig.quit("r1");
  await rig.launch("r2", wt, [
    "resume",
    "--last",
    ...CODEX_UNATTENDED_ARGS,
    "--",
    "SECOND-TURN again",
  ]);
  await rig.waitScreen("r2", "Back again.");
  const second = rig.mock.requests().find((r) => r.step === "second")!;
  const body = JSON.stringify(second.body);
  assert.ok(
    body.includes("FIRST-TURN hello"),
    "earlier prompt not in the resumed request",
  );
  assert.ok(
    body.includes("Noted the first turn."),
    "earlier reply not in the resumed request",
  );
});
