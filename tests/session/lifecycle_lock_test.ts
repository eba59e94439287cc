/** The session lock: one holder, stale locks taken over, live holders waited for. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock, lockPath } from "../../lib/session/lock.ts";
import { pidAlive } from "../../lib/adapters/pid_lock.ts";

async function tempRepo(): Promise<string> {
  return await Deno.realPath(await Deno.makeTempDir({ prefix: "pawlock" }));
}

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

Deno.test("acquireLock() takes over a lock left by a dead process", async () => {
  const repo = await tempRepo();
  try {
    const pid = await deadPid();
    assert.equal(await pidAlive(pid), false);
    await Deno.mkdir(join(repo, ".git-paw"));
    await Deno.writeTextFile(
      lockPath(repo),
      JSON.stringify({
        pid,
        hostname: Deno.hostname(),
        started_at: "2026-01-01T00:00:00.000Z",
        command: "start",
      }),
    );
    let taken: number | null = null;
    const lock = await acquireLock(repo, {
      command: "stop",
      onTakeover: (i) => (taken = i.pid),
    });
    assert.equal(taken, pid);
    const held = JSON.parse(await Deno.readTextFile(lockPath(repo)));
    assert.equal(held.pid, Deno.pid);
    assert.equal(held.command, "stop");
    await lock.release();
    await assert.rejects(Deno.stat(lockPath(repo)), Deno.errors.NotFound);
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("acquireLock() fails with a clear error while a live process holds the lock", async () => {
  const repo = await tempRepo();
  try {
    const first = await acquireLock(repo, { command: "start" });
    await assert.rejects(
      acquireLock(repo, { command: "stop", waitMs: 200 }),
      (e: Error) => {
        assert.match(e.message, /another git-paw command \(start, pid \d+/);
        assert.match(e.message, /session\.lock/);
        return true;
      },
    );
    await first.release();
    const second = await acquireLock(repo, { command: "stop", waitMs: 200 });
    await second.release();
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});

Deno.test("acquireLock() waits for a live holder that releases in time", async () => {
  const repo = await tempRepo();
  try {
    const first = await acquireLock(repo, { command: "start" });
    const waiting = acquireLock(repo, { command: "add", waitMs: 10_000 });
    await new Promise((r) => setTimeout(r, 100));
    await first.release();
    const second = await waiting;
    const held = JSON.parse(await Deno.readTextFile(lockPath(repo)));
    assert.equal(held.command, "add");
    await second.release();
  } finally {
    await Deno.remove(repo, { recursive: true });
  }
});
