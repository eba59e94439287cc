import assert from "node:assert/strict";
import { join } from "node:path";
import { mergeConfig } from "../../lib/core/config.ts";
import {
  bootstrapWorktrees,
  includedIgnoredFiles,
  setupLogPath,
} from "../../lib/session/bootstrap.ts";
import { runToLog } from "../../lib/adapters/log_run.ts";
import { commitFile, makeRepo, sh, tempDir } from "./git_fixture.ts";

/** A repo with `.env` and `dist/` ignored, and a worktree of branch `b`. */
async function repoWithWorktree() {
  const r = await makeRepo();
  await commitFile(r.repo, ".gitignore", ".env\ndist/\n*.local\n");
  await Deno.writeTextFile(join(r.repo, ".env"), "A=1\n");
  await Deno.mkdir(join(r.repo, "dist"));
  await Deno.writeTextFile(join(r.repo, "dist", "x.js"), "x");
  await Deno.writeTextFile(join(r.repo, "settings.local"), "s");
  const wt = join(r.path, "wt-b");
  await sh(r.repo, "worktree", "add", "-q", "-b", "b", wt);
  return Object.assign(r, { wt });
}

async function withEnv<T>(
  vars: Record<string, string>,
  fn: () => Promise<T>,
): Promise<T> {
  const old = Object.fromEntries(
    Object.keys(vars).map((k) => [k, Deno.env.get(k)]),
  );
  for (const [k, v] of Object.entries(vars)) Deno.env.set(k, v);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(old)) {
      if (v === undefined) Deno.env.delete(k);
      else Deno.env.set(k, v);
    }
  }
}

Deno.test("includedIgnoredFiles() runs no git at all without .worktreeinclude or [worktree] copy", async () => {
  await using r = await repoWithWorktree();
  // With no git on PATH, any git process would throw `missing_binary`.
  await withEnv({ PATH: "/nonexistent" }, async () => {
    assert.deepEqual(await includedIgnoredFiles(r.repo, []), []);
    await Deno.writeTextFile(join(r.repo, ".worktreeinclude"), ".env\n");
    await assert.rejects(() => includedIgnoredFiles(r.repo, []), /git/);
  });
});

Deno.test("includedIgnoredFiles() keeps what the patterns select and git ignores", async () => {
  await using r = await repoWithWorktree();
  await Deno.writeTextFile(join(r.repo, "notes.txt"), "untracked");
  await Deno.writeTextFile(
    join(r.repo, ".worktreeinclude"),
    ".env\nnotes.txt\n",
  );
  assert.deepEqual(await includedIgnoredFiles(r.repo, []), [".env"]);
  // [worktree] copy adds patterns, gitignore syntax (negation too).
  assert.deepEqual(
    (await includedIgnoredFiles(r.repo, ["dist/*", "*.local", "!dist/x.js"]))
      .sort(),
    [".env", "settings.local"],
  );
  assert.deepEqual(
    (await includedIgnoredFiles(r.repo, ["dist/"])).sort(),
    [".env", "dist/x.js"],
  );
});

Deno.test("bootstrapWorktrees() copies, never overwrites, and runs each setup step with the agent's env", async () => {
  await using r = await repoWithWorktree();
  await using data = await tempDir("paw-boot-data-");
  await Deno.writeTextFile(join(r.wt, ".env"), "MINE=1\n");
  await withEnv({ XDG_DATA_HOME: data.path }, async () => {
    const config = mergeConfig({}, {
      worktree: {
        copy: ["dist/", "*.local"],
        setup: [
          ["sh", "-c", "echo one; echo $PORT-$GIT_PAW_PORTS-$GIT_PAW_AGENT_ID"],
          ["sh", "-c", "echo two >&2"],
        ],
      },
    });
    const res = await bootstrapWorktrees(r.repo, [{
      branch: "b",
      agentId: "b",
      worktreePath: r.wt,
      ports: { first: 20100, count: 3 },
    }], { config, session: "s" });
    assert.deepEqual(res.failures, []);
    assert.equal(await Deno.readTextFile(join(r.wt, "dist", "x.js")), "x");
    assert.equal(await Deno.readTextFile(join(r.wt, "settings.local")), "s");
    assert.equal(await Deno.readTextFile(join(r.wt, ".env")), "MINE=1\n");
    const log = await Deno.readTextFile(setupLogPath("s", "b"));
    assert.match(log, /one\n20100-20100-20102-b\n/);
    assert.match(log, /\$ sh -c 'echo two >&2'\ntwo\n$/);
  });
});

Deno.test("bootstrapWorktrees() reports a failed and a missing setup per agent", async () => {
  await using r = await repoWithWorktree();
  await using data = await tempDir("paw-boot-data-");
  const wt2 = join(r.path, "wt-c");
  await sh(r.repo, "worktree", "add", "-q", "-b", "c", wt2);
  await withEnv({ XDG_DATA_HOME: data.path }, async () => {
    const fail = mergeConfig({}, {
      worktree: {
        setup: [["sh", "-c", 'test "$GIT_PAW_AGENT_ID" = b'], ["true"]],
      },
    });
    const res = await bootstrapWorktrees(r.repo, [
      { branch: "b", agentId: "b", worktreePath: r.wt },
      { branch: "c", agentId: "c", worktreePath: wt2 },
    ], { config: fail, session: "s" });
    assert.deepEqual(res.failures.map((f) => f.agentId), ["c"]);
    assert.match(res.failures[0]!.detail, /exited with code 1/);
    assert.equal(res.failures[0]!.log, setupLogPath("s", "c"));
    const missing = await bootstrapWorktrees(r.repo, [
      { branch: "b", agentId: "b", worktreePath: r.wt },
    ], {
      config: mergeConfig({}, {
        worktree: { setup: ["/nonexistent/setup-tool"] },
      }),
      session: "s",
    });
    assert.match(missing.failures[0]!.detail, /could not be run/);
  });
});

Deno.test("runToLog() stops a program past its timeout and does not wait for what it left running", async () => {
  await using d = await tempDir("paw-log-");
  const log = join(d.path, "x.log");
  const slow = await runToLog(["sh", "-c", "echo start; sleep 30"], {
    cwd: d.path,
    log,
    timeoutMs: 300,
  });
  assert.ok(slow.timedOut);
  assert.notEqual(slow.code, 0);
  assert.ok(slow.ms < 5000, String(slow.ms));
  assert.match(await Deno.readTextFile(log), /start\n/);
  // A daemon holding stdout open does not hold the caller.
  const t0 = performance.now();
  const bg = await runToLog(["sh", "-c", "sleep 30 & echo left"], {
    cwd: d.path,
    log,
  });
  assert.equal(bg.code, 0);
  assert.ok(performance.now() - t0 < 5000);
  assert.equal((await Deno.stat(log)).mode! & 0o777, 0o600);
});
