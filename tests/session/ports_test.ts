import assert from "node:assert/strict";
import { join } from "node:path";
import {
  assignReceiptPorts,
  portRegistryPath,
  releasePorts,
  reservePorts,
} from "../../lib/session/ports.ts";
import { receiptPath } from "../../lib/session/receipt.ts";
import type { Receipt } from "../../lib/core/session.ts";
import { tempDir } from "./git_fixture.ts";

/** A private data dir for the registry and receipts. */
async function dataHome(): Promise<AsyncDisposable> {
  const d = await tempDir("paw-ports-");
  const old = Deno.env.get("XDG_DATA_HOME");
  Deno.env.set("XDG_DATA_HOME", d.path);
  await Deno.mkdir(join(d.path, "git-paw", "sessions"), { recursive: true });
  return {
    async [Symbol.asyncDispose]() {
      if (old === undefined) Deno.env.delete("XDG_DATA_HOME");
      else Deno.env.set("XDG_DATA_HOME", old);
      await d[Symbol.asyncDispose]();
    },
  };
}

function receipt(session: string, repo: string, branches: string[]): Receipt {
  return {
    session_name: session,
    repo_path: repo,
    project_name: "p",
    created_at: "2026-01-01T00:00:00Z",
    status: "active",
    mode: "bare",
    worktrees: branches.map((b) => ({
      branch: b,
      worktree_path: `${repo}-${b}`,
      cli: "demo",
      branch_created: true,
    })),
  };
}

async function saveReceipt(r: Receipt): Promise<void> {
  await Deno.writeTextFile(receiptPath(r.session_name), JSON.stringify(r));
}

const free = () => true;

Deno.test("reservePorts() gives distinct blocks, the same again for the same agent", async () => {
  await using _d = await dataHome();
  await saveReceipt(receipt("s1", "/r1", []));
  await saveReceipt(receipt("s2", "/r2", []));
  const one = await reservePorts({
    session: "s1",
    repo: "/r1",
    branches: ["a", "b"],
    count: 10,
    isFree: free,
  });
  assert.deepEqual(one.get("a"), { first: 20000, count: 10 });
  assert.deepEqual(one.get("b"), { first: 20010, count: 10 });
  const two = await reservePorts({
    session: "s2",
    repo: "/r2",
    branches: ["a"],
    count: 3,
    isFree: free,
  });
  assert.deepEqual(two.get("a"), { first: 20020, count: 3 });
  const again = await reservePorts({
    session: "s1",
    repo: "/r1",
    branches: ["b"],
    count: 10,
    isFree: free,
  });
  assert.deepEqual(again.get("b"), { first: 20010, count: 10 });
  const text = await Deno.readTextFile(portRegistryPath());
  assert.equal(JSON.parse(text).entries.length, 3);
  assert.equal((await Deno.stat(portRegistryPath())).mode! & 0o777, 0o600);
});

Deno.test("reservePorts() frees blocks of sessions whose receipt is gone and skips bound ports", async () => {
  await using _d = await dataHome();
  await saveReceipt(receipt("old", "/r0", []));
  await reservePorts({
    session: "old",
    repo: "/r0",
    branches: ["x"],
    count: 10,
    isFree: free,
  });
  await Deno.remove(receiptPath("old")); // purged
  await saveReceipt(receipt("new", "/r1", []));
  const got = await reservePorts({
    session: "new",
    repo: "/r1",
    branches: ["a"],
    count: 10,
    isFree: (p) => p !== 20003,
  });
  assert.deepEqual(got.get("a"), { first: 20004, count: 10 });
  const sessions = JSON.parse(await Deno.readTextFile(portRegistryPath()))
    .entries.map((e: { session: string }) => e.session);
  assert.deepEqual(sessions, ["new"]);
});

Deno.test("assignReceiptPorts() keeps recorded blocks unless another session holds them", async () => {
  await using _d = await dataHome();
  const r = receipt("s", "/r", ["a", "b"]);
  r.worktrees[0]!.ports = { first: 21000, count: 10 };
  r.worktrees[1]!.ports = { first: 20000, count: 10 };
  await saveReceipt(r);
  const other = receipt("o", "/o", []);
  await saveReceipt(other);
  // Another session took 20000-20009 while `s` was down (registry lost).
  await reservePorts({
    session: "o",
    repo: "/o",
    branches: ["z"],
    count: 10,
    isFree: free,
  });
  await assignReceiptPorts(r, 10);
  assert.deepEqual(r.worktrees[0]!.ports, { first: 21000, count: 10 });
  assert.notDeepEqual(r.worktrees[1]!.ports, { first: 20000, count: 10 });
});

Deno.test("releasePorts() gives back one agent's block or a whole session's", async () => {
  await using _d = await dataHome();
  await saveReceipt(receipt("s", "/r", []));
  await reservePorts({
    session: "s",
    repo: "/r",
    branches: ["a", "b", "c"],
    count: 2,
    isFree: free,
  });
  const left = async () =>
    JSON.parse(await Deno.readTextFile(portRegistryPath())).entries.map((
      e: { branch: string },
    ) => e.branch);
  await releasePorts({ session: "s", branch: "b" });
  assert.deepEqual(await left(), ["a", "c"]);
  await releasePorts({ session: "s" });
  assert.deepEqual(await left(), []);
});

Deno.test("reservePorts() with a count of 0 and nothing recorded gives no ports", async () => {
  await using _d = await dataHome();
  await saveReceipt(receipt("s", "/r", []));
  const got = await reservePorts({
    session: "s",
    repo: "/r",
    branches: ["a"],
    count: 0,
    isFree: free,
  });
  assert.equal(got.size, 0);
});

Deno.test("reservePorts() called at once by several sessions never hands out a port twice", async () => {
  await using _d = await dataHome();
  // Enough callers that one reads the lock file between its creation and
  // its pid being written (a lock being written is not stale).
  const names = Array.from({ length: 20 }, (_, i) => `s${i}`);
  for (const n of names) await saveReceipt(receipt(n, `/${n}`, []));
  const got = await Promise.all(names.map((n) =>
    reservePorts({
      session: n,
      repo: `/${n}`,
      branches: ["a", "b"],
      count: 10,
      isFree: free,
    })
  ));
  const firsts = got.flatMap((m) => [...m.values()].map((b) => b.first));
  assert.equal(new Set(firsts).size, 40);
  assert.ok(firsts.every((f) => (f - 20000) % 10 === 0), String(firsts));
});
