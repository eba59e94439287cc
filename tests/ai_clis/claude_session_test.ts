/**
 * `git paw start --cli claude` with the real Claude Code against the mock
 * Anthropic API, no key pressed: the model's first request carries the
 * Session Assignment (CLAUDE.md importing AGENTS.md) and the boot block
 * once, the linked worktree asks no trust question, and the scripted
 * `git paw publish status working` runs unasked (pre-allowed in the
 * worktree's local settings): the broker shows agent `a` working. After a
 * tmux crash, `git paw start` resumes the conversation (`--continue`) with a
 * "restarted" prompt. Facts: docs/clis/claude.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBinDir } from "../_helpers/ai_clis.ts";
import { seedClaudeHome } from "../_helpers/ai_cli_claude.ts";
import { pawArgv, shellLine } from "../_helpers/paw_command.ts";
import {
  type LoggedRequest,
  startMockModel,
} from "../fixtures/mock_model/server.ts";
import { claudeProvider } from "../fixtures/mock_model/claude.ts";
import { makeWorld, statusJson, waitFor } from "../session/e2e_helpers.ts";

const WAIT_MS = 90_000;

function messagesOf(r: LoggedRequest): string {
  return JSON.stringify((r.body as { messages?: unknown }).messages ?? null);
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

async function agentStatus(url: string, id: string): Promise<string | null> {
  try {
    const r = await fetch(`${url}/status`, {
      signal: AbortSignal.timeout(2000),
    });
    const body = await r.json() as {
      agents?: Array<{ agent_id: string; status: string }>;
    };
    return body.agents?.find((a) => a.agent_id === id)?.status ?? null;
  } catch {
    return null;
  }
}

Deno.test({
  name:
    "git paw start --cli claude: assignment and boot block reach the model once, git paw publish runs unasked, a crash resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using w = await makeWorld();
    const mock = startMockModel({
      steps: [
        {
          id: "boot",
          when: "BOOT INSTRUCTIONS",
          reply: {
            text: "Registering.",
            tools: [{
              name: "Bash",
              input: {
                command: "git paw publish status working --message booting",
                description: "register",
              },
            }],
          },
        },
        {
          id: "resumed",
          when: "restarted this session",
          reply: { text: "RESUMED-OK" },
        },
      ],
      fallback: { text: "OK-IDLE" },
    }, { providers: [claudeProvider] });
    try {
      const env = await seedClaudeHome({
        home: join(w.root, "home"),
        baseUrl: mock.url,
        trusted: [w.repo],
        tmpDir: join(w.root, "t"),
        // The user's choice: classic mode, where only allow rules run
        // unasked (auto mode's classifier might let the command through).
        userSettings: { permissions: { defaultMode: "default" } },
      });
      // `git paw` inside the CLI's shell: git runs `git-paw` from PATH.
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

      const r = await w.paw(["start", "--cli", "claude", "--branches", "a"]);
      assert.equal(r.code, 0, r.stderr);
      const url = (await statusJson(w)).broker_url!;
      const wt = (await statusJson(w)).worktrees![0]!.worktree_path;
      const screen = async () =>
        (await w.tmux(["capture-pane", "-p", "-t", "=paw-proj:0.1"])).stdout;

      const first = await waitFor(
        "the model's first request",
        () => mock.requests().find((q) => q.step === "boot"),
        WAIT_MS,
      ).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await screen()}`);
      });
      const msgs = messagesOf(first);
      assert.ok(msgs.includes("## git-paw Session Assignment"), msgs);
      assert.equal(count(msgs, "## BOOT INSTRUCTIONS"), 1);
      assert.ok(!msgs.includes("press Enter once more"));

      const st = await waitFor(
        "agent a working on the broker",
        async () => (await agentStatus(url, "a")) === "working" || undefined,
        WAIT_MS,
      ).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await screen()}`);
      });
      assert.equal(st, true);
      const result = await waitFor(
        "the tool result back at the model",
        () =>
          mock.requests().find((q) =>
            q.step !== "boot" && q.step !== null &&
            messagesOf(q).includes("tool_result")
          ),
        WAIT_MS,
      );
      assert.doesNotMatch(result.turn, /Exit code [1-9]/);
      const text = await screen();
      assert.ok(!text.includes("Do you want to proceed?"), text);
      assert.ok(!text.includes("Accessing workspace"), text);
      // The per-CLI files are invisible to git.
      assert.equal((await w.git(["status", "--porcelain"], wt)).stdout, "");
      const bootCalls = mock.requests().filter((q) =>
        q.step && q.turn.includes("BOOT INSTRUCTIONS")
      );
      assert.equal(bootCalls.length, 1, "boot prompt sent once");

      // A crash: the tmux server dies; start recovers and resumes.
      await w.tmux(["kill-server"]);
      const rec = await w.paw(["start"]);
      assert.equal(rec.code, 0, rec.stderr);
      const resumed = await waitFor(
        "the resumed conversation",
        () => mock.requests().find((q) => q.step === "resumed"),
        WAIT_MS,
      ).catch(async (e) => {
        throw new Error(`${(e as Error).message}\n${await screen()}`);
      });
      const again = messagesOf(resumed);
      assert.ok(again.includes("BOOT INSTRUCTIONS"), "old conversation resent");
      assert.equal(
        mock.requests().filter((q) =>
          q.step && q.turn.includes("BOOT INSTRUCTIONS")
        ).length,
        1,
        "the boot prompt is not sent again",
      );

      const purge = await w.paw(["purge", "--force"]);
      assert.equal(purge.code, 0, purge.stderr);
    } finally {
      await w.tmux(["kill-server"]).catch(() => {});
      await new Promise((r) => setTimeout(r, 500));
      await mock.close();
    }
  },
});
