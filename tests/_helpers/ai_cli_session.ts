/**
 * The rig for `git paw start` with a real AI CLI (claude, codex, gemini)
 * against the mock model: a world with a seeded HOME for that CLI, the
 * cached CLI and a `git-paw` shim first on PATH, the mock started with the
 * CLI's provider, and the probes every end-to-end test needs (pane screens,
 * the broker's roster and log, a failure message carrying the screens and
 * the request log, a crash that really ends every pane process). The
 * scripts live with the tests; {@link shellCall} spells a shell command as
 * each CLI's model would call it. Facts: docs/clis/<cli>.md.
 * @module
 */
import { join } from "node:path";
import { aiCliBinDir } from "./ai_clis.ts";
import type { AiCli } from "./ai_clis.ts";
import { seedClaudeHome } from "./ai_cli_claude.ts";
import { seedCodexHome } from "./ai_cli_codex.ts";
import { seedGeminiHome } from "./ai_cli_gemini.ts";
import { pawArgv, shellLine } from "./paw_command.ts";
import { supervisorCredential } from "../../lib/coord/credentials.ts";
import {
  type MockModel,
  type Script,
  startMockModel,
  type ToolCall,
} from "../fixtures/mock_model/server.ts";
import { claudeProvider } from "../fixtures/mock_model/claude.ts";
import { codexProvider } from "../fixtures/mock_model/codex.ts";
import { geminiProvider } from "../fixtures/mock_model/gemini.ts";
import {
  capture,
  IDENTITY,
  makeWorld,
  panes,
  waitFor,
  type World,
} from "../session/e2e_helpers.ts";

/** One broker log entry. */
export type LogEntry = {
  seq: number;
  message: {
    type: string;
    agent_id?: string;
    payload?: {
      status?: string;
      message?: string | null;
      detail?: unknown;
      [k: string]: unknown;
    };
  };
};

/** Text that shows each CLI waiting for a permission answer. */
export const PERMISSION_PROMPT: Record<AiCli, RegExp> = {
  claude: /Do you want to proceed\?/,
  codex: /Would you like to run the following command\?/,
  gemini: /Allow execution of/,
};

/** The key that picks each prompt's first option ("yes, once"). */
export const APPROVE_KEY: Record<AiCli, string> = {
  claude: "Enter",
  codex: "y",
  gemini: "Enter",
};

/**
 * A shell command as the CLI's model calls it. `escalate`: for codex, ask to
 * run outside the sandbox (what makes Codex ask; the others ask for any
 * command not pre-allowed).
 */
export function shellCall(
  cli: AiCli,
  command: string,
  opts: { escalate?: boolean } = {},
): ToolCall {
  switch (cli) {
    case "claude":
      return { name: "Bash", input: { command, description: "run it" } };
    case "codex":
      return {
        name: "shell",
        input: opts.escalate
          ? {
            cmd: command,
            sandbox_permissions: "require_escalated",
            justification: "needs it",
          }
          : { cmd: command },
      };
    case "gemini":
      return { name: "run_shell_command", input: { command } };
  }
}

/** The boot prompt's line naming the agent (tells conversations apart). */
export function agentMark(id: string): string {
  return `You are git-paw agent \`${id}\``;
}

/** A running rig; dispose ends the panes, tmux and the mock. */
export type CliRig = AsyncDisposable & {
  cli: AiCli;
  w: World;
  mock: MockModel;
  /** `git paw start --cli <cli> …args`; throws on a non-zero exit. */
  start(args: string[]): Promise<void>;
  /** Broker URL (after start). */
  url(): Promise<string>;
  /** Pane id of an agent. */
  pane(agent: string): Promise<string>;
  /** Screen of an agent's pane ("" when none). */
  screen(agent: string): Promise<string>;
  /** The broker's message log. */
  log(): Promise<LogEntry[]>;
  /** An agent's status on the broker's roster. */
  status(agent: string): Promise<string | null>;
  /** Publish a message to the broker as the test (a person / supervisor). */
  publish(message: unknown): Promise<void>;
  /** Wait, failing with every pane's screen and the request log. */
  until<T>(
    what: string,
    fn: () => Promise<T> | T,
    ms?: number,
  ): Promise<NonNullable<T>>;
  /** A tmux crash: every pane's processes killed, then the server. */
  crash(): Promise<void>;
  /** Model requests whose latest turn carries the boot block, per agent. */
  bootRequests(agent: string): number;
};

/** Every descendant of `pid` (from /proc), deepest first. */
async function descendants(pid: number): Promise<number[]> {
  const kids = new Map<number, number[]>();
  for await (const e of Deno.readDir("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${e.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      kids.set(ppid, [...kids.get(ppid) ?? [], Number(e.name)]);
    } catch { /* gone */ }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const k of kids.get(p) ?? []) {
      walk(k);
      out.push(k);
    }
  };
  walk(pid);
  return out;
}

/** SIGKILL every pane's process tree (Gemini ignores SIGHUP). */
export async function killPanes(w: World): Promise<void> {
  const r = await w.tmux(["list-panes", "-a", "-F", "#{pane_pid}"]);
  for (const line of r.stdout.split("\n").filter((l) => l.trim())) {
    const pid = Number(line);
    for (const p of [...await descendants(pid), pid]) {
      try {
        Deno.kill(p, "SIGKILL");
      } catch { /* gone */ }
    }
  }
}

/** Seed HOME for `cli` against `mockUrl`; returns the env to add. */
async function seedHome(
  cli: AiCli,
  w: World,
  mockUrl: string,
): Promise<Record<string, string>> {
  const home = join(w.root, "home");
  switch (cli) {
    case "claude":
      return await seedClaudeHome({
        home,
        baseUrl: mockUrl,
        trusted: [w.repo],
        tmpDir: join(w.root, "t"),
        // Classic mode: only allow rules run unasked.
        userSettings: { permissions: { defaultMode: "default" } },
      });
    case "codex":
      return await seedCodexHome(home, {
        mockUrl,
        trustedRepos: [w.repo],
      });
    case "gemini": {
      const seeded = await seedGeminiHome(home, {
        baseUrl: mockUrl,
        trusted: [w.repo],
      });
      return seeded.env;
    }
  }
}

/**
 * Open a rig for `cli` with `script` (the mock's provider is the CLI's).
 * The git identity is the user's global one (`~/.gitconfig` in the seeded
 * HOME), not the environment: a CLI that hides the global config must still
 * commit under it.
 */
export async function openCliRig(
  cli: AiCli,
  script: Script,
): Promise<CliRig> {
  const w = await makeWorld();
  const provider = {
    claude: claudeProvider,
    codex: codexProvider,
    gemini: geminiProvider,
  }[cli];
  const mock = startMockModel(script, { providers: [provider] });
  // The seeded HOME must not move Deno's cache: a cold cache would make
  // every first `git paw` of a test compile the whole program (seconds).
  const denoDir = w.env.DENO_DIR ??
    join(w.env.XDG_CACHE_HOME ?? join(w.env.HOME ?? "/root", ".cache"), "deno");
  const env: Record<string, string> = {
    ...await seedHome(cli, w, mock.url),
    DENO_DIR: denoDir,
  };
  const home = env.HOME!;
  await Deno.writeTextFile(
    join(home, ".gitconfig"),
    "[user]\n\tname = Paw User\n\temail = user@paw.test\n",
  );
  for (const k of Object.keys(IDENTITY)) delete w.env[k];
  const bin = join(w.root, "bin");
  await Deno.mkdir(bin);
  await Deno.writeTextFile(
    join(bin, "git-paw"),
    `#!/bin/sh\nexec ${shellLine(pawArgv([]))} "$@"\n`,
  );
  await Deno.chmod(join(bin, "git-paw"), 0o755);
  Object.assign(w.env, env, {
    PATH: `${bin}:${await aiCliBinDir()}:${w.env.PATH ?? "/usr/bin:/bin"}`,
  });

  let session = "";
  let brokerUrl = "";
  const statusDoc = async () => {
    const r = await w.paw(["status", "--json"]);
    return JSON.parse(r.stdout) as {
      session?: string;
      broker_url?: string;
    };
  };
  const pane = async (agent: string) => {
    const p = (await panes(w, session)).find((x) => x.agent === agent);
    if (!p) throw new Error(`no pane for agent ${agent}`);
    return p.id;
  };
  const screen = async (agent: string) => {
    try {
      return await capture(w, await pane(agent));
    } catch {
      return "";
    }
  };
  const log = async (): Promise<LogEntry[]> => {
    const r = await fetch(`${brokerUrl}/log?since=0`, {
      signal: AbortSignal.timeout(3000),
    });
    const j = await r.json() as { entries?: LogEntry[] } | LogEntry[];
    return Array.isArray(j) ? j : j.entries ?? [];
  };
  const rig: CliRig = {
    cli,
    w,
    mock,
    async start(args) {
      const r = await w.paw(["start", "--cli", cli, ...args]);
      if (r.code !== 0) {
        throw new Error(`git paw start failed: ${r.stderr}\n${r.stdout}`);
      }
      const st = await statusDoc();
      session = st.session ?? "";
      brokerUrl = st.broker_url ?? "";
    },
    url: () => Promise.resolve(brokerUrl),
    pane,
    screen,
    log,
    async status(agent) {
      try {
        const r = await fetch(`${brokerUrl}/status`, {
          signal: AbortSignal.timeout(3000),
        });
        const body = await r.json() as {
          agents?: Array<{ agent_id: string; status: string }>;
        };
        return body.agents?.find((a) => a.agent_id === agent)?.status ?? null;
      } catch {
        return null;
      }
    },
    async publish(message) {
      // The test speaks as the supervisor: with the session's supervisor key.
      const key = await supervisorCredential(
        join(w.root, "data", "git-paw", "sessions", session),
      );
      const r = await fetch(`${brokerUrl}/publish`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-git-paw-agent-key": key,
        },
        body: JSON.stringify(message),
      });
      const text = await r.text();
      if (!r.ok) throw new Error(`publish: ${r.status} ${text}`);
    },
    async until(what, fn, ms = 60_000) {
      try {
        return await waitFor(what, fn, ms);
      } catch (e) {
        const shots: string[] = [];
        for (const p of await panes(w, session).catch(() => [])) {
          shots.push(
            `--- pane ${p.id} ${p.role} ${p.agent}\n${await capture(w, p.id)}`,
          );
        }
        const reqs = mock.requests().filter((q) => q.step !== null).map((q) =>
          `${q.step}: ${q.turn.slice(0, 160).replaceAll("\n", " ")}`
        );
        throw new Error(
          `${(e as Error).message}\n${shots.join("\n")}\n--- model requests\n${
            reqs.join("\n")
          }`,
        );
      }
    },
    async crash() {
      await killPanes(w);
      await w.tmux(["kill-server"]);
    },
    bootRequests(agent) {
      return mock.requests().filter((q) =>
        q.step !== null && q.turn.includes("BOOT INSTRUCTIONS") &&
        q.turn.includes(agentMark(agent))
      ).length;
    },
    async [Symbol.asyncDispose]() {
      await killPanes(w).catch(() => {});
      await w.tmux(["kill-server"]).catch(() => {});
      await mock.close().catch(() => {});
      await w[Symbol.asyncDispose]();
    },
  };
  return rig;
}

/** Hooks a CLI's own test adds to {@link runUnattendedScenario}. */
export type ScenarioChecks = {
  /** After both agents booted, published and read their inbox. */
  afterBoot?(rig: CliRig): Promise<void>;
  /** After the crash recovery resumed both agents, before purge. */
  afterResume?(rig: CliRig): Promise<void>;
  /** After `git paw purge --force`. */
  afterPurge?(rig: CliRig): Promise<void>;
};

/** What {@link runUnattendedScenario} measured, for the log. */
export type ScenarioReport = {
  bootMs: number;
  needsInputLagMs: number;
  statuses: string[];
};

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/**
 * The script for agents `a` and `b`: each boots by publishing `working`
 * (message `<id>-up`) and reading its inbox; `a`, finding its feedback
 * there, runs `touch blocked.txt` (a command the CLI asks about), then
 * commits it; `b` ends its turn. After a restart each answers the
 * "restarted" prompt. The steps are told apart by the agent id the boot
 * prompt names.
 */
export function unattendedScript(cli: AiCli): Script {
  const steps: Script["steps"] = [];
  for (const id of ["a", "b"]) {
    steps.push({
      id: `resumed-${id}`,
      when: "restarted this session",
      context: agentMark(id),
      reply: { text: `RESUMED-${id}` },
    });
  }
  for (const id of ["a", "b"]) {
    steps.push({
      id: `boot-${id}`,
      when: "BOOT INSTRUCTIONS",
      context: agentMark(id),
      reply: {
        text: "Registering.",
        tools: [
          shellCall(cli, `git paw publish status working --message ${id}-up`),
        ],
      },
    }, {
      id: `inbox-${id}`,
      context: agentMark(id),
      reply: {
        text: "Reading my inbox.",
        tools: [shellCall(cli, "git paw inbox --wait 30")],
      },
    });
  }
  steps.push({
    id: "act-a",
    when: "FB-a-7k",
    context: agentMark("a"),
    reply: {
      text: "Making the file.",
      tools: [shellCall(cli, "touch blocked.txt", { escalate: true })],
    },
  }, {
    id: "commit-a",
    context: agentMark("a"),
    reply: {
      text: "Committing.",
      tools: [
        shellCall(cli, "git add blocked.txt && git commit -m a-commit-5t"),
      ],
    },
  }, {
    id: "done-a",
    when: "a-commit-5t",
    context: agentMark("a"),
    reply: { text: "A-DONE" },
  }, {
    id: "done-b",
    when: "FB-b-7k",
    context: agentMark("b"),
    reply: { text: "B-DONE" },
  });
  return { steps, fallback: { text: "OK-IDLE" } };
}

/**
 * The whole unattended run for one CLI, on a rig opened with
 * {@link unattendedScript}: 2 agents boot and coordinate with no key
 * pressed; `a`'s command outside git-paw's own is `needs_input` on the
 * broker within 2 s of the prompt; after approval its commit is a committed
 * artifact under `a`; a tmux crash and `git paw start` resume both.
 */
export async function runUnattendedScenario(
  rig: CliRig,
  checks: ScenarioChecks = {},
): Promise<ScenarioReport> {
  const { cli, mock, w } = rig;
  const t0 = Date.now();
  await rig.start(["--branches", "a,b"]);
  // Feedback waiting in each inbox before the agents read it.
  for (const id of ["a", "b"]) {
    await rig.publish({
      type: "agent.feedback",
      agent_id: id,
      payload: { from: "supervisor", errors: [`FB-${id}-7k: please check`] },
    });
  }

  // 1. Both publish under their own ids, from their own panes.
  const ups = await rig.until("both agents working on the broker", async () => {
    const all = await rig.log();
    const up = (id: string) =>
      all.find((e) =>
        e.message.type === "agent.status" &&
        e.message.payload?.message === `${id}-up`
      );
    const a = up("a"), b = up("b");
    return a && b && (await rig.status("a")) && (await rig.status("b"))
      ? [a, b]
      : undefined;
  }, 90_000);
  const bootMs = Date.now() - t0;
  if (ups[0].message.agent_id !== "a" || ups[1].message.agent_id !== "b") {
    throw new Error(
      `a status went out under the wrong id: ${JSON.stringify(ups)}`,
    );
  }
  for (const id of ["a", "b"]) {
    const first = mock.requests().find((q) => q.step === `boot-${id}`)!;
    const body = JSON.stringify(first.body);
    if (!body.includes("## git-paw Session Assignment")) {
      throw new Error(`${id}: no Session Assignment in the model's context`);
    }
    if (count(first.turn, "## BOOT INSTRUCTIONS") !== 1) {
      throw new Error(`${id}: the boot block is not in the turn once`);
    }
  }
  // The inbox result (with the feedback sent to each) reached each model.
  await rig.until(
    "each agent's inbox (with its feedback) back at its model",
    () =>
      mock.requests().some((q) => q.step === "done-b") &&
      mock.requests().some((q) => q.step === "act-a"),
    60_000,
  );
  for (const id of ["a", "b"]) {
    if (rig.bootRequests(id) !== 1) {
      throw new Error(`${id}: boot prompt sent ${rig.bootRequests(id)} times`);
    }
  }
  await checks.afterBoot?.(rig);

  // 2. A command outside git-paw's own: needs_input while the CLI waits.
  const prompt = PERMISSION_PROMPT[cli];
  await rig.until("a's permission prompt for touch", async () => {
    const s = await rig.screen("a");
    return prompt.test(s) && s.includes("touch blocked.txt");
  }, 60_000);
  const seen = Date.now();
  const waiting = await rig.until(
    "needs_input for a on the broker",
    async () =>
      (await rig.log()).find((e) =>
        e.message.type === "agent.status" && e.message.agent_id === "a" &&
        e.message.payload?.status === "needs_input"
      ),
    10_000,
  );
  const needsInputLagMs = Date.now() - seen;
  if (needsInputLagMs > 2000) {
    throw new Error(`needs_input came ${needsInputLagMs} ms after the prompt`);
  }
  if (!/touch blocked\.txt/.test(waiting.message.payload?.message ?? "")) {
    throw new Error(
      `needs_input does not quote the command: ${
        JSON.stringify(waiting.message.payload)
      }`,
    );
  }
  // The roster may say `working` for a moment: a status the CLI's hook
  // sent in the background can land after the wait's; the screen detector
  // says `needs_input` again on its next look while the prompt is shown.
  await rig.until(
    "the roster to say a needs input",
    async () => (await rig.status("a")) === "needs_input",
    3000,
  );

  // 3. Approve; the commit (approved too where the CLI asks) arrives as a
  // committed artifact under a.
  const paneA = await rig.pane("a");
  await w.tmux(["send-keys", "-t", paneA, APPROVE_KEY[cli]]);
  let pressed = 0;
  const artifact = await rig.until("a's committed artifact", async () => {
    const hit = (await rig.log()).find((e) =>
      e.message.type === "agent.artifact" && e.message.agent_id === "a" &&
      e.message.payload?.status === "committed"
    );
    if (hit) return hit;
    const s = await rig.screen("a");
    if (
      prompt.test(s) && s.includes("git commit") && Date.now() - pressed > 3000
    ) {
      pressed = Date.now();
      await w.tmux(["send-keys", "-t", paneA, APPROVE_KEY[cli]]);
    }
    return undefined;
  }, 60_000);
  const files = artifact.message.payload?.modified_files as string[] ?? [];
  if (!files.includes("blocked.txt")) {
    throw new Error(`artifact files: ${JSON.stringify(artifact.message)}`);
  }
  const statuses = (await rig.log()).filter((e) =>
    e.message.type === "agent.status" || e.message.type === "agent.artifact"
  ).map((e) =>
    `${e.message.agent_id}:${e.message.payload?.status}:${
      (e.message.payload?.detail as { source?: string } | undefined)?.source ??
        "-"
    }`
  );

  // 4. A crash; start recovers and resumes both conversations.
  await rig.crash();
  const rec = await w.paw(["start"]);
  if (rec.code !== 0) throw new Error(`recovery start: ${rec.stderr}`);
  for (const id of ["a", "b"]) {
    const resumed = await rig.until(
      `${id}'s resumed conversation`,
      () => mock.requests().find((q) => q.step === `resumed-${id}`),
      60_000,
    );
    const body = JSON.stringify(resumed.body);
    if (count(body, "## BOOT INSTRUCTIONS") !== 1) {
      throw new Error(
        `${id}: the resumed request carries the boot block ${
          count(body, "## BOOT INSTRUCTIONS")
        } times (want the old conversation's one)`,
      );
    }
    if (rig.bootRequests(id) !== 1) {
      throw new Error(`${id}: boot prompt sent again after the restart`);
    }
  }
  await checks.afterResume?.(rig);
  await killPanes(w);
  const purge = await w.paw(["purge", "--force"]);
  if (purge.code !== 0) throw new Error(`purge: ${purge.stderr}`);
  await checks.afterPurge?.(rig);
  return { bootMs, needsInputLagMs, statuses };
}
