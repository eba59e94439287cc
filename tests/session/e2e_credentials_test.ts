/**
 * Nobody publishes as someone else (issue 12 item 8), end to end with real
 * tmux, git and the demo agent: each agent worktree gets its own key file
 * next to its marker; `git paw publish` inside the worktree works with an
 * empty environment; the git post-commit hook still publishes; a forged
 * message with no key (or another agent's) is refused and never reaches the
 * `[notify] command`; `git paw add` mid-session brings a working key and
 * `git paw remove` ends it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { pawArgs } from "../_helpers/paw_command.ts";
import { type LogEntry } from "../../lib/core/broker_types.ts";
import { AGENT_KEY_HEADER } from "../../lib/core/agent_key.ts";
import {
  demoIdle,
  makeWorld,
  panes,
  waitFor,
  type World,
} from "./e2e_helpers.ts";

const dec = new TextDecoder();

async function receiptOf(w: World, session: string) {
  return JSON.parse(
    await Deno.readTextFile(
      join(w.root, "data", "git-paw", "sessions", `${session}.json`),
    ),
  ) as {
    broker_port: number;
    worktrees: Array<{ branch: string; worktree_path: string }>;
  };
}

async function log(url: string): Promise<LogEntry[]> {
  const res = await fetch(`${url}/log?since=0`);
  return (await res.json()).entries as LogEntry[];
}

async function gitDirOf(w: World, worktree: string): Promise<string> {
  const r = await w.git(["rev-parse", "--absolute-git-dir"], worktree);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

/** The bare minimum a process has (`env -i PATH=… HOME=…`). */
function emptyEnv(w: World): Record<string, string> {
  return {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    HOME: w.root,
    // Where deno keeps its module cache (a runtime detail of running
    // git-paw from source, not something git-paw reads).
    DENO_DIR: Deno.env.get("DENO_DIR") ||
      join(Deno.env.get("HOME") ?? "/root", ".cache", "deno"),
  };
}

async function run(
  argv: string[],
  cwd: string,
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const o = await new Deno.Command(argv[0]!, {
    args: argv.slice(1),
    cwd,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
  };
}

Deno.test("a session broker takes each agent's messages only with its own key", async (t) => {
  await using w = await makeWorld({ project: "cred" });
  const notified = join(w.root, "notified.txt");
  const script = join(w.root, "notify.sh");
  await Deno.writeTextFile(
    script,
    `printf '%s|%s|%s\\n' "$2" "$3" "$4" >> "$1"\n`,
  );
  await w.writeConfig(
    `[notify]\ncommand = ["/bin/sh", ${JSON.stringify(script)}, ${
      JSON.stringify(notified)
    }]\nbell = false\n`,
  );
  const start = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(start.code, 0, start.stderr);
  const receipt = await receiptOf(w, "paw-cred");
  const url = `http://127.0.0.1:${receipt.broker_port}`;
  const wtA = receipt.worktrees[0]!.worktree_path;
  const gdA = await gitDirOf(w, wtA);
  const keyFile = join(gdA, "paw-agent-key");
  const keyA = /X-Git-Paw-Agent-Key: ([A-Za-z0-9_-]+)/.exec(
    await Deno.readTextFile(keyFile),
  )?.[1];
  const paneA = (await panes(w, "paw-cred")).find((p) => p.agent === "feat-a")!
    .id;

  await t.step(
    "the key file: owner-only, next to the marker, not in git",
    async () => {
      assert.ok(keyA && keyA.length >= 22);
      assert.equal((await Deno.stat(keyFile)).mode! & 0o777, 0o600);
      const st = await w.git(["status", "--porcelain", "--ignored"], wtA);
      assert.ok(!st.stdout.includes("paw-agent-key"), st.stdout);
      // The key is in no AGENTS.md, only the file's path is.
      const md = await Deno.readTextFile(join(wtA, "AGENTS.md"));
      assert.ok(!md.includes(keyA!));
      assert.ok(md.includes(`-K ${keyFile}`), md);
    },
  );

  await t.step(
    "the demo agent and the post-commit hook publish with it",
    async () => {
      await demoIdle(w, paneA, wtA);
      const entries = await waitFor(
        "the demo's commit on the broker",
        async () => {
          const e = await log(url);
          return e.some((x) =>
              x.message.type === "agent.artifact" &&
              (x.message as { agent_id: string }).agent_id === "feat-a"
            )
            ? e
            : null;
        },
      );
      assert.ok(entries.some((x) => x.message.type === "agent.intent"));
      // A commit made with an empty environment: the hook finds the key itself.
      await Deno.writeTextFile(join(wtA, "hook.txt"), "x\n");
      const env = {
        ...emptyEnv(w),
        GIT_AUTHOR_NAME: "t",
        GIT_AUTHOR_EMAIL: "t@t.invalid",
        GIT_COMMITTER_NAME: "t",
        GIT_COMMITTER_EMAIL: "t@t.invalid",
      };
      assert.equal((await run(["git", "add", "hook.txt"], wtA, env)).code, 0);
      const c = await run(["git", "commit", "-q", "-m", "hook"], wtA, env);
      assert.equal(c.code, 0, c.stderr);
      assert.ok(!/refused|not published/.test(c.stderr), c.stderr);
      const head = (await w.git(["rev-parse", "HEAD"], wtA)).stdout.trim();
      await waitFor(
        "the hook's artifact",
        async () =>
          (await log(url)).some((x) =>
            x.message.type === "agent.artifact" &&
            (x.message.payload as { commit?: string }).commit === head
          ),
      );
    },
  );

  await t.step(
    "git paw publish with an empty environment lands as the agent",
    async () => {
      const r = await run(
        [
          Deno.execPath(),
          ...pawArgs(["publish", "status", "working", "--message", "env -i"]),
        ],
        wtA,
        emptyEnv(w),
      );
      assert.equal(r.code, 0, r.stderr);
      const got = (await log(url)).find((x) =>
        x.message.type === "agent.status" &&
        (x.message.payload as { message?: string }).message === "env -i"
      );
      assert.equal((got?.message as { agent_id?: string })?.agent_id, "feat-a");
    },
  );

  await t.step("a forged blocked is refused and never notifies", async () => {
    const before = (await log(url)).length;
    const forged = await fetch(`${url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        type: "agent.blocked",
        agent_id: "feat-a",
        payload: { needs: "FORGED", from: "feat-a" },
      }),
    });
    assert.equal(forged.status, 403);
    assert.equal((await forged.json()).error, "agent credential required");
    const asSupervisor = await fetch(`${url}/publish`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        [AGENT_KEY_HEADER]: keyA!,
      },
      body: JSON.stringify({
        type: "agent.question",
        agent_id: "supervisor",
        payload: { question: "FORGED" },
      }),
    });
    assert.equal(asSupervisor.status, 403);
    await asSupervisor.body?.cancel();
    assert.equal((await log(url)).length, before);
    // The agent's own blocked (through the helper) notifies; had the forged
    // one gone through, it would have been the one (same agent and cause).
    const real = await run(
      [
        Deno.execPath(),
        ...pawArgs(["publish", "blocked", "--needs", "REAL", "--from", "main"]),
      ],
      wtA,
      emptyEnv(w),
    );
    assert.equal(real.code, 0, real.stderr);
    const lines = await waitFor("the notify command", async () => {
      const text = await Deno.readTextFile(notified).catch(() => "");
      return text.includes("REAL") ? text : null;
    });
    assert.ok(!lines.includes("FORGED"), lines);
  });

  let keyB = "";
  await t.step(
    "git paw add mid-session: the new agent's key works at once",
    async () => {
      const add = await w.paw(["add", "feat/b", "--cli", "demo"]);
      assert.equal(add.code, 0, add.stderr);
      const wtB =
        (await receiptOf(w, "paw-cred")).worktrees.find((x) =>
          x.branch === "feat/b"
        )!.worktree_path;
      keyB = /X-Git-Paw-Agent-Key: ([A-Za-z0-9_-]+)/.exec(
        await Deno.readTextFile(join(await gitDirOf(w, wtB), "paw-agent-key")),
      )![1]!;
      assert.notEqual(keyB, keyA);
      await waitFor(
        "feat-b's demo publishing",
        async () =>
          (await log(url)).some((x) =>
            x.message.type === "agent.intent" &&
            (x.message as { agent_id: string }).agent_id === "feat-b"
          ),
        60_000,
      );
      // Each key speaks for its own agent only.
      const cross = await fetch(`${url}/publish`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [AGENT_KEY_HEADER]: keyB,
        },
        body: JSON.stringify({
          type: "agent.status",
          agent_id: "feat-a",
          payload: { status: "done" },
        }),
      });
      assert.equal(cross.status, 403);
      assert.equal((await cross.json()).error, "wrong agent credential");
    },
  );

  await t.step(
    "git paw remove: the removed agent's key stops working",
    async () => {
      const rm = await w.paw(["remove", "feat/b", "--force"]);
      assert.equal(rm.code, 0, rm.stderr);
      const res = await fetch(`${url}/publish`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          [AGENT_KEY_HEADER]: keyB,
        },
        body: JSON.stringify({
          type: "agent.status",
          agent_id: "feat-b",
          payload: { status: "working" },
        }),
      });
      assert.equal(res.status, 403);
      await res.body?.cancel();
    },
  );
});
