/**
 * The standalone `git paw broker` stays open by default (the original's
 * plain-curl agents) and with `--require-credentials` takes an agent's
 * messages only with its key: the key files of the agent worktrees git-paw
 * set up in the repo it runs in, and the supervisor's in its data dir.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../_helpers/repo.ts";
import {
  ensureAgentKey,
  supervisorKeyPath,
} from "../../lib/coord/credentials.ts";
import { parseAgentKeyFile } from "../../lib/core/agent_key.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const dec = new TextDecoder();

/** `git paw broker …` in `cwd`; resolves once it printed its URL. */
async function broker(args: string[], cwd: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", MAIN, "broker", "--port", "0", ...args],
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", XDG_CONFIG_HOME: join(cwd, ".no-config") },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(out)?.[0];
  assert.ok(url, out);
  const drain = (async () => {
    while (!(await reader.read()).done) { /* the rest of stdout */ }
  })();
  const errText = (async () => {
    let s = "";
    for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) {
      s += c;
    }
    return s;
  })();
  return {
    url,
    async stop(): Promise<string> {
      child.kill("SIGTERM");
      await child.status;
      await drain;
      return await errText;
    },
  };
}

function publish(url: string, msg: unknown, key?: string) {
  return fetch(`${url}/publish`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(key ? { "x-git-paw-agent-key": key } : {}),
    },
    body: JSON.stringify(msg),
  });
}

const status = (id: string) => ({
  type: "agent.status",
  agent_id: id,
  payload: { status: "working" },
});

async function git(args: string[], cwd: string) {
  const o = await new Deno.Command("git", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: {
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@t.invalid",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@t.invalid",
    },
  }).output();
  assert.equal(o.code, 0, dec.decode(o.stderr));
  return dec.decode(o.stdout).trim();
}

Deno.test("git paw broker is open by default and closed with --require-credentials", async (t) => {
  await using dir = await tempDir();
  const repo = join(dir.path, "repo");
  await Deno.mkdir(repo);
  await git(["init", "-q", "-b", "main"], repo);
  await git(["commit", "-q", "--allow-empty", "-m", "init"], repo);
  await git(["worktree", "add", "-q", "-b", "feat/a", "../wt-a"], repo);
  const wt = join(dir.path, "wt-a");
  const gd = await git(["rev-parse", "--absolute-git-dir"], wt);
  // What git-paw's setup leaves: the marker and the key file.
  await Deno.writeTextFile(
    join(gd, "paw-agent-id"),
    JSON.stringify({
      version: 1,
      agent_id: "feat-a",
      expected_branch: "feat/a",
      broker_url: null,
      strict_branch_guard: false,
      timestamp: "2026-01-01T00:00:00Z",
      repo,
      agents_md: { mode: "none", created: false },
    }),
  );
  const key = await ensureAgentKey(gd);

  await t.step(
    "default: anyone publishes as anyone (wire compatible)",
    async () => {
      const b = await broker(["--data-dir", join(dir.path, "open")], repo);
      try {
        const r = await publish(b.url, status("feat-a"));
        assert.equal(r.status, 202);
        await r.body?.cancel();
        const s = await publish(b.url, status("supervisor"));
        assert.equal(s.status, 202);
        await s.body?.cancel();
      } finally {
        await b.stop();
      }
    },
  );

  await t.step("--require-credentials: only the agent's own key", async () => {
    const data = join(dir.path, "closed");
    const b = await broker(["--data-dir", data, "--require-credentials"], repo);
    let err = "";
    try {
      const anon = await publish(b.url, status("feat-a"));
      assert.equal(anon.status, 403);
      assert.equal((await anon.json()).error, "agent credential required");
      const own = await publish(b.url, status("feat-a"), key);
      assert.equal(own.status, 202);
      await own.body?.cancel();
      const other = await publish(b.url, status("feat-b"), key);
      assert.equal(other.status, 403);
      await other.body?.cancel();
      const sup = parseAgentKeyFile(
        await Deno.readTextFile(supervisorKeyPath(data)),
      )!.key;
      const bySup = await publish(b.url, status("supervisor"), sup);
      assert.equal(bySup.status, 202);
      await bySup.body?.cancel();
      const asSup = await publish(b.url, status("supervisor"), key);
      assert.equal(asSup.status, 403);
      await asSup.body?.cancel();
    } finally {
      err = await b.stop();
    }
    assert.ok(err.includes(supervisorKeyPath(data)), err);
    assert.ok(!err.includes(key), "the key never reaches the log");
  });
});
