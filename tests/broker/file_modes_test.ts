/**
 * Owner-only files: the broker's log, human log, lock and checkpoint (0600)
 * in an owner-only data dir (0700), pane logs under an owner-only,
 * git-ignored `.git-paw/logs/`, and files an older version made 0644
 * tightened when opened again.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { openStore } from "../../lib/broker/store.ts";
import { createNew } from "../../lib/adapters/pid_lock.ts";
import { writeTextAtomic } from "../../lib/adapters/fs.ts";
import {
  appendToFileShellCommand,
  paneLogPath,
  preparePaneLogDir,
} from "../../lib/dashboard/pane_log.ts";
import { statusMsg } from "../_helpers/broker.ts";
import { parseMessage } from "../../lib/core/messages.ts";

async function mode(path: string): Promise<string> {
  return ((await Deno.stat(path)).mode! & 0o777).toString(8);
}

async function withTmp(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "paw-modes-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("openStore() creates its data dir 0700 and every file 0600", async () => {
  await withTmp(async (tmp) => {
    const dataDir = join(tmp, "a", "data");
    const store = await openStore({
      dataDir,
      session: "s",
      warn: () => {},
      checkpointBytes: 1,
    });
    try {
      const msg = parseMessage(statusMsg("feat-a"));
      assert.ok(msg.ok);
      await store.publish(msg.message, Date.now()).durable;
      await store.flush();
      assert.equal(await mode(dataDir), "700");
      assert.equal(await mode(join(tmp, "a")), "700");
      for (const f of ["s.jsonl", "s.broker.log", "s.jsonl.lock"]) {
        assert.equal(await mode(join(dataDir, f)), "600", f);
      }
      await store.checkpoint();
      assert.equal(await mode(join(dataDir, "s.jsonl.checkpoint")), "600");
    } finally {
      await store.close();
    }
  });
});

Deno.test("openStore() makes an older version's 0644 log files 0600", async () => {
  await withTmp(async (dataDir) => {
    for (const f of ["s.jsonl", "s.broker.log"]) {
      await Deno.writeTextFile(join(dataDir, f), "", { mode: 0o644 });
      await Deno.chmod(join(dataDir, f), 0o644);
    }
    const store = await openStore({ dataDir, session: "s", warn: () => {} });
    try {
      for (const f of ["s.jsonl", "s.broker.log"]) {
        assert.equal(await mode(join(dataDir, f)), "600", f);
      }
    } finally {
      await store.close();
    }
  });
});

Deno.test("createNew() and writeTextAtomic() with an owner-only mode stay owner-only", async () => {
  await withTmp(async (tmp) => {
    assert.equal(await createNew(join(tmp, "x.lock"), "1\n"), true);
    assert.equal(await mode(join(tmp, "x.lock")), "600");
    await writeTextAtomic(join(tmp, "new", "r.json"), "{}", { mode: 0o600 });
    assert.equal(await mode(join(tmp, "new")), "700");
    assert.equal(await mode(join(tmp, "new", "r.json")), "600");
    // A file that is not owner-only keeps the usual dir mode.
    await writeTextAtomic(join(tmp, "pub", "p.txt"), "x");
    assert.notEqual(await mode(join(tmp, "pub")), "700");
  });
});

async function git(cwd: string, ...args: string[]) {
  return await new Deno.Command("git", {
    args,
    cwd,
    stdout: "piped",
    stderr: "piped",
    env: { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" },
  }).output();
}

Deno.test("preparePaneLogDir() makes pane logs owner-only and ignored by git without init", async () => {
  await withTmp(async (repo) => {
    assert.equal((await git(repo, "init", "-q")).code, 0);
    // An older version's logs: a 0755 dir and a 0644 log.
    const old = paneLogPath(repo, "paw-x", "feat/old");
    await Deno.mkdir(join(repo, ".git-paw", "logs", "paw-x"), {
      recursive: true,
      mode: 0o755,
    });
    await Deno.writeTextFile(old, "secret=1\n", { mode: 0o644 });
    await Deno.chmod(old, 0o644);
    const dir = await preparePaneLogDir(repo, "paw-x");
    assert.equal(await mode(join(repo, ".git-paw", "logs")), "700");
    assert.equal(await mode(dir), "700");
    assert.equal(await mode(old), "600");
    assert.equal(
      await Deno.readTextFile(join(repo, ".git-paw", "logs", ".gitignore")),
      "*\n",
    );
    // A log the pane command creates is 0600 whatever the caller's umask.
    const fresh = paneLogPath(repo, "paw-x", "feat/new");
    const sh = new Deno.Command("sh", {
      args: ["-c", `umask 022; ${appendToFileShellCommand(fresh)}`],
      stdin: "piped",
    }).spawn();
    const w = sh.stdin.getWriter();
    await w.write(new TextEncoder().encode("token=abc\n"));
    await w.close();
    assert.equal((await sh.status).code, 0);
    assert.equal(await mode(fresh), "600");
    // git sees none of it, not even with `git add .git-paw`.
    await Deno.writeTextFile(join(repo, ".git-paw", "config.toml"), "");
    assert.equal((await git(repo, "add", ".git-paw")).code, 0);
    const staged = new TextDecoder().decode(
      (await git(repo, "diff", "--cached", "--name-only")).stdout,
    );
    assert.deepEqual(staged.trim().split("\n"), [".git-paw/config.toml"]);
    // Idempotent: a second call keeps the .gitignore as it is.
    await preparePaneLogDir(repo, "paw-x");
    assert.equal(
      await Deno.readTextFile(join(repo, ".git-paw", "logs", ".gitignore")),
      "*\n",
    );
  });
});
