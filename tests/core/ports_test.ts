import assert from "node:assert/strict";
import {
  allocateBlock,
  formatPorts,
  overlaps,
  parsePortRegistry,
  PORT_BASE,
  portEnv,
} from "../../lib/core/ports.ts";
import { defaultConfig, validateConfig } from "../../lib/core/config.ts";
import { statusJson } from "../../lib/core/session.ts";

Deno.test("formatPorts() and portEnv() give first-last, one number for a block of one", () => {
  assert.equal(formatPorts({ first: 20000, count: 10 }), "20000-20009");
  assert.equal(formatPorts({ first: 20500, count: 1 }), "20500");
  assert.deepEqual(portEnv({ first: 20010, count: 5 }), {
    PORT: "20010",
    GIT_PAW_PORTS: "20010-20014",
  });
});

Deno.test("overlaps() is true only for blocks sharing a port", () => {
  assert.ok(overlaps({ first: 10, count: 5 }, { first: 14, count: 1 }));
  assert.ok(!overlaps({ first: 10, count: 5 }, { first: 15, count: 3 }));
  assert.ok(!overlaps({ first: 15, count: 3 }, { first: 10, count: 5 }));
});

Deno.test("allocateBlock() takes the lowest gap past taken blocks and bound ports", () => {
  assert.deepEqual(allocateBlock([], 10), { first: PORT_BASE, count: 10 });
  assert.deepEqual(
    allocateBlock(
      [{ first: 20000, count: 10 }, { first: 20010, count: 5 }],
      10,
    ),
    { first: 20015, count: 10 },
  );
  // A gap too small is skipped; a bound port pushes the block past it.
  assert.deepEqual(
    allocateBlock([{ first: 20005, count: 10 }], 10, {
      isFree: (p) => p !== 20017,
    }),
    { first: 20018, count: 10 },
  );
  // Well-known ports inside the range are never covered.
  const b = allocateBlock([], 10, { base: 27010 })!;
  assert.ok(b.first > 27019, JSON.stringify(b));
  assert.equal(allocateBlock([], 10, { base: 100, ceiling: 108 }), null);
});

Deno.test("parsePortRegistry() reads a valid document and drops a garbled one", () => {
  const ok = parsePortRegistry({
    version: 1,
    entries: [{
      session: "s",
      repo: "/r",
      branch: "b",
      first: 20000,
      count: 10,
    }],
  });
  assert.equal(ok.entries.length, 1);
  assert.deepEqual(parsePortRegistry({ entries: "x" }).entries, []);
});

Deno.test("[worktree] keys: defaults, one argv or a list of argvs, bad shapes named", () => {
  const c = defaultConfig();
  assert.deepEqual(c.worktree, {
    copy: [],
    setup: [],
    setup_timeout_seconds: 600,
    ports: 10,
  });
  const one = validateConfig({ worktree: { setup: ["npm", "ci"] } }, "/c");
  assert.ok(one.ok);
  const bad = validateConfig({ worktree: { setup: "npm ci" } }, "/c");
  assert.ok(!bad.ok);
  assert.equal(bad.key, "worktree.setup");
  assert.match(bad.error, /argv/);
  const unknown = validateConfig({ worktree: { coppy: [] } }, "/c");
  assert.ok(!unknown.ok && unknown.key === "worktree.coppy");
});

Deno.test("statusJson() shows each agent's port and block when recorded", () => {
  const doc = statusJson({
    session_name: "s",
    repo_path: "/r",
    project_name: "r",
    created_at: "x",
    status: "active",
    mode: "bare",
    worktrees: [
      {
        branch: "a",
        worktree_path: "/w/a",
        cli: "demo",
        branch_created: true,
        ports: { first: 20000, count: 10 },
      },
      { branch: "b", worktree_path: "/w/b", cli: "demo", branch_created: true },
    ],
  }, "alive");
  assert.equal(doc.worktrees![0]!.port, 20000);
  assert.equal(doc.worktrees![0]!.ports, "20000-20009");
  assert.equal(doc.worktrees![1]!.port, undefined);
});
