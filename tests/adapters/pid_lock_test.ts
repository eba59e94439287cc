/** Pid lock files: atomic creation, liveness without /proc, stale takeover. */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  createNew,
  pidAlive,
  removeIfUnchanged,
  tryPidLock,
} from "../../lib/adapters/pid_lock.ts";

async function deadPid(): Promise<number> {
  const child = new Deno.Command("true").spawn();
  await child.status;
  return child.pid;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "pawpidlock" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("pidAlive() tells a live process from a dead one", async () => {
  assert.equal(await pidAlive(Deno.pid), true);
  assert.equal(await pidAlive(await deadPid()), false);
  assert.equal(await pidAlive(0), false);
  assert.equal(await pidAlive(-5), false);
});

Deno.test("pidAlive() does not disturb the process it probes", async () => {
  const child = new Deno.Command("sleep", { args: ["0.3"] }).spawn();
  assert.equal(await pidAlive(child.pid), true);
  const st = await child.status;
  assert.equal(st.signal, null);
  assert.equal(st.code, 0);
});

Deno.test("createNew() creates once and refuses an existing file", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.lock");
    assert.equal(await createNew(p, "1\n"), true);
    assert.equal(await createNew(p, "2\n"), false);
    assert.equal(await Deno.readTextFile(p), "1\n");
  });
});

Deno.test("tryPidLock() refuses a lock held by a live pid", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.lock");
    const child = new Deno.Command("sleep", { args: ["5"] }).spawn();
    try {
      await Deno.writeTextFile(p, `${child.pid}\n`);
      const got = await tryPidLock(p, `${Deno.pid}\n`);
      assert.deepEqual(got, {
        kind: "held",
        pid: child.pid,
        text: `${child.pid}\n`,
      });
      assert.equal(await Deno.readTextFile(p), `${child.pid}\n`);
    } finally {
      child.kill();
      await child.status;
    }
  });
});

Deno.test("tryPidLock() takes over a lock held by a dead pid", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.lock");
    const dead = await deadPid();
    await Deno.writeTextFile(p, `${dead}\n`);
    const taken: string[] = [];
    const got = await tryPidLock(p, `${Deno.pid}\n`, {
      onTakeover: (t) => taken.push(t),
    });
    assert.deepEqual(got, { kind: "acquired" });
    assert.deepEqual(taken, [`${dead}\n`]);
    assert.equal(await Deno.readTextFile(p), `${Deno.pid}\n`);
  });
});

Deno.test("tryPidLock() reports garbage in a lock file and leaves it", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.lock");
    for (const junk of ["", "not a pid\n", "12abc", '{"pid": 1']) {
      await Deno.writeTextFile(p, junk);
      const got = await tryPidLock(p, `${Deno.pid}\n`);
      assert.deepEqual(got, { kind: "garbled", text: junk });
      assert.equal(await Deno.readTextFile(p), junk);
    }
  });
});

Deno.test("tryPidLock() never takes over a lock another host holds", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.lock");
    const dead = await deadPid();
    const text = JSON.stringify({ pid: dead, host: "elsewhere" });
    await Deno.writeTextFile(p, text);
    const got = await tryPidLock(p, "mine", {
      pidOf: (t) => JSON.parse(t).pid,
      local: (t) => JSON.parse(t).host === "here",
    });
    assert.deepEqual(got, { kind: "held", pid: dead, text });
  });
});

Deno.test("tryPidLock() takes over its own pid only with takeOwnPid", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.lock");
    await Deno.writeTextFile(p, `${Deno.pid}\n`);
    assert.equal((await tryPidLock(p, "new\n")).kind, "held");
    const got = await tryPidLock(p, "new\n", { takeOwnPid: true });
    assert.deepEqual(got, { kind: "acquired" });
    assert.equal(await Deno.readTextFile(p), "new\n");
  });
});

Deno.test("removeIfUnchanged() removes only the text it was given", async () => {
  await withDir(async (dir) => {
    const p = join(dir, "x.lock");
    await Deno.writeTextFile(p, "a\n");
    assert.equal(await removeIfUnchanged(p, "b\n"), false);
    assert.equal(await Deno.readTextFile(p), "a\n");
    assert.equal(await removeIfUnchanged(p, "a\n"), true);
    await assert.rejects(Deno.stat(p), Deno.errors.NotFound);
    assert.equal(await removeIfUnchanged(p, "a\n"), false);
  });
});

Deno.test("pidAlive() answers without Deno.kill permission (subprocess with scoped --allow-run)", async () => {
  const dead = await deadPid();
  const code = `
    import { pidAlive } from ${
    JSON.stringify(
      new URL("../../lib/adapters/pid_lock.ts", import.meta.url).href,
    )
  };
    console.log(JSON.stringify([await pidAlive(Deno.pid), await pidAlive(${dead})]));
  `;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--allow-read", "--allow-run=kill", code],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, err);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), [
    true,
    false,
  ]);
});
