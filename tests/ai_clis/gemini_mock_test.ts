/**
 * The real Gemini CLI 0.61, interactive in tmux, against the scripted mock
 * model, in a linked worktree of a temp repo. Proves the facts in
 * `docs/clis/gemini.md` that git-paw's Gemini profile will rely on.
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBin } from "../_helpers/ai_clis.ts";
import {
  seedGeminiHome,
  writeGeminiWorkspaceSettings,
} from "../_helpers/ai_cli_gemini.ts";
import {
  type LoggedRequest,
  type MockModel,
  type Script,
  startMockModel,
} from "../fixtures/mock_model/server.ts";
import { geminiProvider } from "../fixtures/mock_model/gemini.ts";
import { waitFor } from "../_helpers/wait.ts";
import { addWorktree, initRepo } from "../_helpers/repo.ts";

const WAIT_MS = 60_000;
const HOOK_EVENTS = [
  "SessionStart",
  "BeforeAgent",
  "BeforeTool",
  "AfterTool",
  "Notification",
  "AfterAgent",
];

type Rig = {
  root: string;
  repo: string;
  worktree: string;
  home: string;
  hooksLog: string;
  mock: MockModel;
  env: Record<string, string>;
  bin: string;
};

async function run(cmd: string, args: string[], opts: {
  cwd?: string;
  env?: Record<string, string>;
} = {}): Promise<string> {
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
      `Cannot run ${cmd} ${args.join(" ")}: ${
        new TextDecoder().decode(out.stderr)
      }`,
    );
  }
  return text;
}

function git(cwd: string, ...args: string[]): Promise<string> {
  return run("git", [
    "-c",
    "user.name=Rig",
    "-c",
    "user.email=rig@example.com",
    ...args,
  ], { cwd });
}

/** Temp repo + linked sibling worktree, seeded HOME, mock, fake `git-paw`. */
async function makeRig(script: Script): Promise<Rig> {
  const root = await Deno.realPath(
    await Deno.makeTempDir({ prefix: "gemini_mock_" }),
  );
  const repo = join(root, "repo");
  const worktree = join(root, "repo-feat");
  await initRepo(repo, {
    files: { "AGENTS.md": "AGENTS_MARKER_5150: answer in haiku.\n" },
  });
  await addWorktree(repo, "feat", worktree);
  const hooksLog = join(root, "hooks.jsonl");
  const binDir = join(root, "bin");
  await Deno.mkdir(binDir);
  await Deno.writeTextFile(
    join(binDir, "git-paw"),
    '#!/bin/sh\necho "fake-git-paw $*"\n',
  );
  await Deno.chmod(join(binDir, "git-paw"), 0o755);
  const mock = startMockModel(script, { providers: [geminiProvider] });
  const home = join(root, "home");
  const seeded = await seedGeminiHome(home, {
    baseUrl: mock.url,
    trusted: [repo, worktree],
  });
  await writeGeminiWorkspaceSettings(worktree, {
    allowCommands: ["git paw"],
    allowCommandRegexes: [
      `curl -s http://127\\.0\\.0\\.1:${mock.port}/v1beta/models`,
    ],
    contextFiles: ["AGENTS.md", "GEMINI.md"],
    hooks: {
      ...Object.fromEntries(
        HOOK_EVENTS.map((e) => [e, `{ cat; echo; } >> ${hooksLog}`]),
      ),
      // Logs, and denies any command mentioning FORBIDDEN_9 with a reason.
      BeforeTool: `input=$(cat); printf '%s\\n' "$input" >> ${hooksLog}; ` +
        `case "$input" in *FORBIDDEN_9*) ` +
        `echo '{"decision":"deny","reason":"git-paw says no"}';; esac`,
    },
  });
  const env = {
    ...seeded.env,
    PATH: `${binDir}:/usr/local/bin:/usr/bin:/bin`,
    TMUX_TMPDIR: root,
    // The CLI's shell hides ~/.gitconfig and forces `core.hooksPath=`: the
    // pane carries the user's identity, and GIT_CONFIG_PARAMETERS (read by
    // git after the CLI's GIT_CONFIG_COUNT entries) restores the hooks dir.
    GIT_CONFIG_PARAMETERS: `'core.hooksPath'='${join(repo, ".git", "hooks")}'`,
    GIT_AUTHOR_NAME: "Pat Paw",
    GIT_AUTHOR_EMAIL: "pat@example.com",
    GIT_COMMITTER_NAME: "Pat Paw",
    GIT_COMMITTER_EMAIL: "pat@example.com",
  };
  return {
    root,
    repo,
    worktree,
    home,
    hooksLog,
    mock,
    env,
    bin: await aiCliBin("gemini"),
  };
}

function tmux(rig: Rig, ...args: string[]): Promise<string> {
  return run("tmux", args, { env: { TMUX_TMPDIR: rig.root, TMUX: "" } });
}

/** Start `gemini args…` in a 120x40 tmux session, cwd `dir`. */
async function launch(rig: Rig, name: string, dir: string, args: string[]) {
  const envArgs = Object.entries(rig.env).map(([k, v]) => `${k}=${v}`);
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
    dir,
    "env",
    "-i",
    ...envArgs,
    rig.bin,
    ...args,
  );
}

function screen(rig: Rig, name: string): Promise<string> {
  return tmux(rig, "capture-pane", "-p", "-t", name);
}

function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  onTimeout: () => Promise<string>,
): Promise<T> {
  return waitFor(what, probe, {
    timeoutMs: WAIT_MS,
    intervalMs: 250,
    detail: onTimeout,
  }) as Promise<T>;
}

function waitScreen(rig: Rig, name: string, text: string): Promise<string> {
  return waitUntil(
    `"${text}" on screen`,
    async () => {
      const s = await screen(rig, name);
      return s.includes(text) ? s : undefined;
    },
    () => screen(rig, name),
  );
}

function waitRequest(
  rig: Rig,
  name: string,
  step: string,
): Promise<LoggedRequest> {
  return waitUntil(
    `model request answered by step ${step}`,
    () => Promise.resolve(rig.mock.requests().find((r) => r.step === step)),
    async () =>
      `${await screen(rig, name)}\nrequests: ${
        rig.mock.requests().map((r) => `${r.path} ${r.step}`).join("\n")
      }`,
  );
}

async function hookEvents(rig: Rig): Promise<Record<string, unknown>[]> {
  try {
    const text = await Deno.readTextFile(rig.hooksLog);
    return text.split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
}

/** Idle: the last reply is on screen and no "esc to cancel" spinner. */
function waitIdle(rig: Rig, name: string, reply: string): Promise<string> {
  return waitUntil(
    `idle after "${reply}"`,
    async () => {
      const s = await screen(rig, name);
      return s.includes(reply) && !s.includes("esc to cancel") &&
          !s.includes("Allow execution")
        ? s
        : undefined;
    },
    () => screen(rig, name),
  );
}

/** Type a prompt once the pane is idle after `after` (the previous reply). */
async function typePrompt(
  rig: Rig,
  name: string,
  text: string,
  after: string,
) {
  await waitIdle(rig, name, after);
  await tmux(rig, "send-keys", "-t", name, "-l", text);
  await new Promise((r) => setTimeout(r, 300));
  await tmux(rig, "send-keys", "-t", name, "Enter");
}

/** Stop the CLI in a pane. The launcher ignores SIGHUP/SIGTERM; its child does not. */
async function stopPane(rig: Rig, name: string) {
  let pid: number;
  try {
    pid = Number(
      (await tmux(rig, "display", "-p", "-t", name, "#{pane_pid}")).trim(),
    );
  } catch {
    return;
  }
  await new Deno.Command("pkill", { args: ["-TERM", "-P", String(pid)] })
    .output();
  const end = Date.now() + 10_000;
  while (Date.now() < end) {
    try {
      Deno.kill(pid, "SIGCONT");
    } catch {
      break;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    Deno.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
  try {
    await tmux(rig, "kill-session", "-t", name);
  } catch {
    // the session ended with its pane
  }
}

async function closeRig(rig: Rig) {
  // Killing the tmux server would orphan the CLI (it ignores SIGHUP): stop
  // every pane's CLI first.
  let panes: string[] = [];
  try {
    panes = (await tmux(rig, "list-sessions", "-F", "#{session_name}"))
      .split("\n").filter((l) => l.trim());
  } catch {
    // no server left
  }
  for (const name of panes) await stopPane(rig, name);
  try {
    await tmux(rig, "kill-server");
  } catch {
    // no server left
  }
  await rig.mock.close();
  await Deno.remove(rig.root, { recursive: true });
}

function bodyText(r: LoggedRequest): string {
  return JSON.stringify(r.body);
}

const SCRIPT: Script = {
  steps: [
    {
      id: "paw",
      when: "RUN_PAW",
      reply: {
        text: "Checking the session.",
        tools: [{
          name: "run_shell_command",
          input: { command: "git paw status --probe 77" },
        }],
      },
    },
    {
      id: "paw-result",
      when: "fake-git-paw status --probe 77",
      reply: { text: "Paw answered." },
    },
    {
      id: "curl",
      when: "RUN_CURL",
      reply: {
        text: "Asking the broker.",
        tools: [{
          name: "run_shell_command",
          input: { command: "curl -s http://127.0.0.1:PORT/v1beta/models" },
        }],
      },
    },
    {
      id: "curl-result",
      when: "models/gemini-2.5-flash",
      reply: { text: "Broker answered." },
    },
    {
      id: "touch",
      when: "RUN_TOUCH",
      reply: {
        text: "Creating a file.",
        tools: [{
          name: "run_shell_command",
          input: { command: "touch not-allowed.txt" },
        }],
      },
    },
    {
      id: "commit",
      when: "RUN_COMMIT",
      reply: {
        text: "Committing.",
        tools: [{
          name: "run_shell_command",
          input: { command: "git commit --allow-empty -m from-gemini" },
        }],
      },
    },
    {
      id: "forbidden",
      when: "RUN_FORBIDDEN",
      reply: {
        text: "Trying.",
        tools: [{
          name: "run_shell_command",
          input: { command: "echo FORBIDDEN_9" },
        }],
      },
    },
    {
      id: "forbidden-result",
      when: "git-paw says no",
      reply: { text: "Refused." },
    },
    { id: "resumed", when: "RESUMED_7", reply: { text: "Back again." } },
  ],
  fallback: { text: "Okay." },
};

function scriptFor(port: number): Script {
  return {
    ...SCRIPT,
    steps: SCRIPT.steps.map((s) =>
      s.id === "curl"
        ? {
          ...s,
          reply: {
            ...s.reply,
            tools: [{
              name: "run_shell_command",
              input: {
                command: `curl -s http://127.0.0.1:${port}/v1beta/models`,
              },
            }],
          },
        }
        : s
    ),
  };
}

Deno.test({
  name:
    "gemini 0.61 in a trusted linked worktree: allowlist, instructions, hooks, identity, resume",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    // The curl step needs the port, known only once the mock listens.
    const steps: Script = { steps: [], fallback: SCRIPT.fallback! };
    const rig = await makeRig(steps);
    steps.steps.push(...scriptFor(rig.mock.port).steps);
    // A post-commit hook in the common git dir, to see whether it runs.
    const hookMark = join(rig.root, "post-commit-ran");
    const hookPath = join(rig.repo, ".git", "hooks", "post-commit");
    await Deno.writeTextFile(hookPath, `#!/bin/sh\ntouch ${hookMark}\n`);
    await Deno.chmod(hookPath, 0o755);
    try {
      // 1. First prompt via -i; the pre-allowed `git paw …` runs with no key.
      await launch(rig, "a", rig.worktree, ["-i", "RUN_PAW now"]);
      const first = await waitRequest(rig, "a", "paw");
      assert.match(bodyText(first), /AGENTS_MARKER_5150/);
      assert.match(bodyText(first), /Context from: .*AGENTS\.md/);
      const result = await waitRequest(rig, "a", "paw-result");
      assert.match(result.turn, /functionResponse|fake-git-paw/);
      assert.match(result.turn, /fake-git-paw status --probe 77/);
      const idle = await waitScreen(rig, "a", "Paw answered.");
      assert.doesNotMatch(idle, /Allow execution/);
      assert.doesNotMatch(idle, /Do you trust/);

      // Hooks: prompt submitted, tool start/end, turn end, with their JSON.
      const events = await waitUntil(
        "AfterAgent hook",
        async () => {
          const ev = await hookEvents(rig);
          return ev.some((e) => e.hook_event_name === "AfterAgent")
            ? ev
            : undefined;
        },
        async () => JSON.stringify(await hookEvents(rig)),
      );
      const byName = (n: string) => events.find((e) => e.hook_event_name === n);
      assert.equal(byName("SessionStart")?.source, "startup");
      assert.equal(byName("BeforeAgent")?.prompt, "RUN_PAW now");
      assert.deepEqual(byName("BeforeTool")?.tool_name, "run_shell_command");
      assert.deepEqual(byName("BeforeTool")?.tool_input, {
        command: "git paw status --probe 77",
      });
      assert.equal(byName("AfterTool")?.tool_name, "run_shell_command");
      assert.equal(
        byName("AfterAgent")?.prompt_response,
        "Checking the session.\nPaw answered.",
      );
      assert.equal(byName("AfterAgent")?.cwd, rig.worktree);

      // 2. curl to the loopback port, allowed by a commandRegex rule: runs,
      //    and the shell reaches 127.0.0.1 (no sandbox by default).
      await typePrompt(rig, "a", "RUN_CURL please", "Paw answered.");
      const curled = await waitRequest(rig, "a", "curl-result");
      assert.match(curled.turn, /models\/gemini-2\.5-flash/);

      // 3. A command outside the allowlist asks, and says so to the hook.
      await typePrompt(rig, "a", "RUN_TOUCH please", "Broker answered.");
      const asking = await waitScreen(rig, "a", "Allow execution of [Shell]?");
      assert.match(asking, /touch not-allowed\.txt/);
      assert.match(asking, /1\. Allow once/);
      const note = await waitUntil(
        "Notification hook",
        async () =>
          (await hookEvents(rig)).find((e) =>
            e.hook_event_name === "Notification"
          ),
        async () => JSON.stringify(await hookEvents(rig)),
      );
      assert.equal(note.notification_type, "ToolPermission");
      assert.equal(
        (note.details as { command?: string }).command,
        "touch not-allowed.txt",
      );
      await tmux(rig, "send-keys", "-t", "a", "Enter"); // 1. Allow once
      await waitUntil(
        "the approved file",
        async () => {
          try {
            await Deno.stat(join(rig.worktree, "not-allowed.txt"));
            return true;
          } catch {
            return false;
          }
        },
        () => screen(rig, "a"),
      );

      // 4. git commit from the CLI's shell: identity from the pane env
      //    (GIT_CONFIG_GLOBAL=/dev/null hides ~/.gitconfig), and the
      //    post-commit hook runs thanks to GIT_CONFIG_PARAMETERS.
      await typePrompt(rig, "a", "RUN_COMMIT please", "Okay.");
      await waitScreen(rig, "a", "git commit --allow-empty -m from-gemini");
      await waitScreen(rig, "a", "Allow execution of [Shell]?");
      await tmux(rig, "send-keys", "-t", "a", "Enter");
      const author = await waitUntil(
        "the commit",
        async () => {
          const log = await git(
            rig.worktree,
            "log",
            "-1",
            "--format=%s|%an <%ae>|%cn",
          );
          return log.startsWith("from-gemini") ? log.trim() : undefined;
        },
        () => screen(rig, "a"),
      );
      assert.equal(author, "from-gemini|Pat Paw <pat@example.com>|Pat Paw");
      await waitUntil(
        "the commit's tool result",
        () =>
          Promise.resolve(
            rig.mock.requests().some((r) => r.turn.includes("from-gemini")),
          ),
        () => screen(rig, "a"),
      );
      await waitUntil(
        "the post-commit hook",
        async () => {
          try {
            await Deno.stat(hookMark);
            return true;
          } catch {
            return false;
          }
        },
        () => screen(rig, "a"),
      );

      // 5. A BeforeTool hook denies with a reason; the model gets the reason.
      await typePrompt(rig, "a", "RUN_FORBIDDEN please", "Okay.");
      const denied = await waitRequest(rig, "a", "forbidden-result");
      assert.match(denied.turn, /Tool execution blocked: git-paw says no/);
      assert.doesNotMatch(await screen(rig, "a"), /Allow execution/);

      // 6. Resume: relaunch in the same dir with a new prompt.
      await stopPane(rig, "a");
      await launch(rig, "b", rig.worktree, [
        "--resume",
        "latest",
        "-i",
        "RESUMED_7 hi",
      ]);
      const resumed = await waitRequest(rig, "b", "resumed");
      const contents = (resumed.body as { contents: unknown[] }).contents;
      assert.ok(contents.length > 4, `history carried: ${contents.length}`);
      assert.match(bodyText(resumed), /RUN_PAW now/);
      assert.match(resumed.turn, /RESUMED_7 hi/);
      await waitScreen(rig, "b", "Back again.");
      await stopPane(rig, "b");
    } finally {
      await closeRig(rig);
    }
  },
});

Deno.test({
  name:
    "gemini 0.61 asks to trust a fresh linked worktree even when its repo is trusted",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rig = await makeRig({ steps: [], fallback: { text: "Okay." } });
    try {
      const fresh = join(rig.root, "repo-fresh");
      await git(rig.repo, "worktree", "add", "-q", fresh, "-b", "fresh");
      await launch(rig, "t", fresh, []);
      const s = await waitScreen(
        rig,
        "t",
        "Do you trust the files in this folder?",
      );
      assert.match(s, /1\. Trust folder \(repo-fresh\)/);
      assert.match(s, /2\. Trust parent folder/);
      await stopPane(rig, "t");
      // The documented bypass for one launch: --skip-trust (= GEMINI_CLI_TRUST_WORKSPACE=true).
      await launch(rig, "u", fresh, ["--skip-trust"]);
      const ok = await waitScreen(rig, "u", "Type your message");
      assert.doesNotMatch(ok, /Do you trust/);
      await stopPane(rig, "u");
    } finally {
      await closeRig(rig);
    }
  },
});
