/**
 * `git paw start --cli gemini` with the real Gemini CLI 0.61 against the
 * mock model, no key pressed, in a repo the user trusts in Gemini: the
 * fresh worktree asks no trust question (git-paw trusts it), so the CLI
 * does not restart and sends the boot block once; GEMINI.md brings in the
 * Session Assignment; the scripted `git paw publish status working` runs
 * unasked (git-paw's policy file): the broker shows agent `a` working.
 * After a crash `git paw start` resumes (`--resume latest`); purge takes
 * the trust entry out again. Facts: docs/clis/gemini.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBinDir } from "../_helpers/ai_clis.ts";
import { seedGeminiHome } from "../_helpers/ai_cli_gemini.ts";
import { pawArgv, shellLine } from "../_helpers/paw_command.ts";
import { startMockModel } from "../fixtures/mock_model/server.ts";
import { geminiProvider } from "../fixtures/mock_model/gemini.ts";
import {
  makeWorld,
  statusJson,
  waitFor,
  type World,
} from "../session/e2e_helpers.ts";

const WAIT_MS = 90_000;

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

/** Gemini ignores SIGHUP: end every pane's process tree before tmux goes. */
async function killPanes(w: World): Promise<void> {
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

Deno.test({
  name:
    "git paw start --cli gemini: no trust dialog, boot block once, assignment in context, git paw publish unasked, a crash resumes",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using w = await makeWorld();
    const mock = startMockModel({
      steps: [{
        id: "resumed",
        when: "restarted this session",
        reply: { text: "RESUMED-OK" },
      }, {
        id: "boot",
        when: "BOOT INSTRUCTIONS",
        reply: {
          text: "Registering.",
          tools: [{
            name: "run_shell_command",
            input: {
              command: "git paw publish status working --message booting",
            },
          }],
        },
      }],
      fallback: { text: "OK-IDLE" },
    }, { providers: [geminiProvider] });
    try {
      const home = join(w.root, "home");
      const seeded = await seedGeminiHome(home, {
        baseUrl: mock.url,
        trusted: [w.repo],
      });
      const trustBefore = await Deno.readTextFile(seeded.trustedFoldersPath);
      const bin = join(w.root, "bin");
      await Deno.mkdir(bin);
      await Deno.writeTextFile(
        join(bin, "git-paw"),
        `#!/bin/sh\nexec ${shellLine(pawArgv([]))} "$@"\n`,
      );
      await Deno.chmod(join(bin, "git-paw"), 0o755);
      Object.assign(w.env, seeded.env, {
        PATH: `${bin}:${await aiCliBinDir()}:${w.env.PATH ?? "/usr/bin:/bin"}`,
      });

      const r = await w.paw(["start", "--cli", "gemini", "--branches", "a"]);
      assert.equal(r.code, 0, r.stderr);
      const st = await statusJson(w);
      const url = st.broker_url!;
      const wt = st.worktrees![0]!.worktree_path;
      const screen = async () =>
        (await w.tmux(["capture-pane", "-p", "-t", "=paw-proj:0.1"])).stdout;
      const fail = async (e: unknown): Promise<never> => {
        throw new Error(
          `${(e as Error).message}\n${await screen()}\nrequests: ${
            mock.requests().map((q) => `${q.path} ${q.step}`).join("\n")
          }`,
        );
      };

      const first = await waitFor(
        "the model's boot request",
        () => mock.requests().find((q) => q.step === "boot"),
        WAIT_MS,
      ).catch(fail);
      const body = JSON.stringify(first.body);
      assert.ok(body.includes("## git-paw Session Assignment"), body);
      assert.equal(count(body, "## BOOT INSTRUCTIONS"), 1);

      await waitFor(
        "agent a working on the broker",
        async () => (await agentStatus(url, "a")) === "working",
        WAIT_MS,
      ).catch(fail);
      const text = await screen();
      assert.doesNotMatch(text, /Do you trust/);
      assert.doesNotMatch(text, /Allow execution/);
      // No restart after a trust answer: the boot block went out once.
      assert.equal(
        mock.requests().filter((q) =>
          q.step !== null && q.turn.includes("BOOT INSTRUCTIONS")
        ).length,
        1,
      );
      assert.equal((await w.git(["status", "--porcelain"], wt)).stdout, "");
      const trust = JSON.parse(
        await Deno.readTextFile(seeded.trustedFoldersPath),
      );
      assert.equal(trust[wt], "TRUST_FOLDER");

      // A crash: the tmux server dies; start recovers and resumes.
      await killPanes(w);
      await w.tmux(["kill-server"]);
      const rec = await w.paw(["start"]);
      assert.equal(rec.code, 0, rec.stderr);
      const resumed = await waitFor(
        "the resumed conversation",
        () => mock.requests().find((q) => q.step === "resumed"),
        WAIT_MS,
      ).catch(fail);
      assert.ok(
        JSON.stringify(resumed.body).includes("BOOT INSTRUCTIONS"),
        "the old conversation is resent",
      );
      assert.equal(
        mock.requests().filter((q) =>
          q.step !== null && q.turn.includes("BOOT INSTRUCTIONS")
        ).length,
        1,
        "the boot prompt is not sent again",
      );

      await killPanes(w);
      const purge = await w.paw(["purge", "--force"]);
      assert.equal(purge.code, 0, purge.stderr);
      assert.equal(
        await Deno.readTextFile(seeded.trustedFoldersPath),
        trustBefore,
        "purge removes the trust entry git-paw added",
      );
    } finally {
      await killPanes(w).catch(() => {});
      await w.tmux(["kill-server"]).catch(() => {});
      await mock.close();
    }
  },
});
