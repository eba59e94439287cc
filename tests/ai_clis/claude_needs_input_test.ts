/**
 * "Which agent needs me", end to end with the real Claude Code 2.1 in a
 * git-paw session against the mock Anthropic API: the hooks (written here
 * into the seeded user settings, calling `git-paw __cli-event`) and the
 * screen detector in pane 0 put `needs_input` naming the command on the
 * broker within 2 s of the permission prompt appearing, and `idle` once the
 * approved turn ends. Facts: docs/clis/claude.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBinDir } from "../_helpers/ai_clis.ts";
import { seedClaudeHome } from "../_helpers/ai_cli_claude.ts";
import { pawArgv, shellLine } from "../_helpers/paw_command.ts";
import { startMockModel } from "../fixtures/mock_model/server.ts";
import { claudeProvider } from "../fixtures/mock_model/claude.ts";
import {
  capture,
  makeWorld,
  panes,
  statusJson,
  waitFor,
} from "../session/e2e_helpers.ts";

type Entry = {
  seq: number;
  message: {
    type: string;
    agent_id?: string;
    payload?: { status?: string; message?: string | null; detail?: unknown };
  };
};

async function log(url: string): Promise<Entry[]> {
  const r = await fetch(`${url}/log?since=0`);
  const j = await r.json() as { entries?: Entry[] } | Entry[];
  return Array.isArray(j) ? j : j.entries ?? [];
}

Deno.test("claude in a session: a command outside the allowlist is needs_input on the broker within 2 s, idle after the turn", async () => {
  await using w = await makeWorld();
  const mock = startMockModel({
    steps: [{
      id: "touch",
      when: "BOOT INSTRUCTIONS",
      reply: {
        text: "Making it.",
        tools: [{
          name: "Bash",
          input: { command: "touch blocked.txt", description: "make it" },
        }],
      },
    }, {
      id: "after",
      reply: { text: "TURN-DONE-7q" },
    }],
    fallback: { text: "ok" },
  }, { providers: [claudeProvider] });
  await using _m = { [Symbol.asyncDispose]: () => mock.close() };
  const hook = (event: string) => ({
    hooks: [{
      type: "command",
      command: shellLine(
        pawArgv(["__cli-event", "--cli", "claude", "--event", event]),
      ),
    }],
  });
  const home = join(w.root, "home");
  const env = await seedClaudeHome({
    home,
    baseUrl: mock.url,
    trusted: [w.repo],
    tmpDir: join(w.root, "ct"),
    userSettings: {
      permissions: { allow: ["Bash(git paw:*)"], defaultMode: "default" },
      hooks: {
        UserPromptSubmit: [hook("UserPromptSubmit")],
        PreToolUse: [hook("PreToolUse")],
        PostToolUse: [hook("PostToolUse")],
        Stop: [hook("Stop")],
        Notification: [{
          matcher: "permission_prompt",
          ...hook("Notification"),
        }],
      },
    },
  });
  Object.assign(w.env, env, {
    PATH: `${await aiCliBinDir()}:${w.env.PATH ?? "/usr/bin:/bin"}`,
  });
  const r = await w.paw(["start", "--cli", "claude", "--branches", "feat-a"]);
  assert.equal(r.code, 0, r.stderr);
  const st = await statusJson(w);
  const url = st.broker_url!;
  const session = st.session!;
  const pane = await waitFor(
    "the agent pane",
    async () => (await panes(w, session)).find((p) => p.agent === "feat-a")?.id,
  );
  // The prompt appears; note when we first saw it.
  await waitFor("the permission prompt", async () => {
    const text = await capture(w, pane);
    return text.includes("Do you want to proceed?") &&
      text.includes("touch blocked.txt");
  }, 90_000);
  const seen = Date.now();
  const waiting = await waitFor(
    "needs_input on the broker",
    async () =>
      (await log(url)).find((e) =>
        e.message.type === "agent.status" && e.message.agent_id === "feat-a" &&
        e.message.payload?.status === "needs_input"
      ),
    10_000,
  );
  const late = Date.now() - seen;
  assert.ok(late <= 2000, `needs_input came ${late} ms after the prompt`);
  assert.match(waiting.message.payload?.message ?? "", /touch blocked\.txt/);
  // The roster says so too. A hook Claude ran in the background (the
  // prompt's `working`) can land just after the screen's report under
  // load; the detector says it again on its next look (about 1 s).
  await waitFor("needs_input on the roster", async () => {
    const roster = await (await fetch(`${url}/status`)).json() as {
      agents: Array<{ agent_id: string; status: string }>;
    };
    return roster.agents.find((a) => a.agent_id === "feat-a")?.status ===
      "needs_input";
  }, 3_000);
  // Approve: the command runs, the turn ends.
  await w.tmux(["send-keys", "-t", pane, "Enter"]);
  await waitFor(
    "the end of the turn",
    async () => (await capture(w, pane)).includes("TURN-DONE-7q"),
    60_000,
  );
  const after = await waitFor("idle on the broker", async () => {
    const all = await log(url);
    const i = all.findIndex((e) =>
      e.seq > waiting.seq && e.message.agent_id === "feat-a" &&
      e.message.payload?.status === "idle"
    );
    return i >= 0 ? all : undefined;
  }, 20_000);
  const statuses = after.filter((e) =>
    e.message.agent_id === "feat-a" && e.message.type === "agent.status"
  )
    .map((e) =>
      `${e.message.payload?.status}:${
        (e.message.payload?.detail as { source?: string } | undefined)
          ?.source ?? "-"
      }`
    );
  // The detector saw the prompt go; it must not flap after the hook's idle.
  await new Promise((r) => setTimeout(r, 2500));
  const last = (await log(url)).filter((e) =>
    e.message.agent_id === "feat-a" && e.message.type === "agent.status"
  ).at(-1);
  assert.equal(last?.message.payload?.status, "idle");
  console.log(
    `feat-a statuses: ${
      statuses.join(" ")
    } (needs_input ${late} ms after the prompt)`,
  );
  await w.paw(["stop"]);
});
