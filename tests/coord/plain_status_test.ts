/**
 * The plain `publish status` path (lib/coord/plain_status.ts: no zod, git,
 * `node:path` or fetch) against the full one (lib/coord/helper.ts) on real
 * worktrees set up by git-paw, a real broker and real HTTP servers: it
 * finds the same git dir, accepts the same markers, resolves the same
 * identity, and sends, queues and refuses as the full path does — or
 * leaves the call to it before sending anything.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { setupAgentWorktree } from "../../lib/coord/setup.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import { agentPlan } from "../../lib/core/agent_plan.ts";
import { AgentMarker } from "../../lib/coord/marker.ts";
import { CliFileRecord } from "../../lib/coord/cli_file_record.ts";
import { gitDirsFromLayout } from "../../lib/adapters/git_layout.ts";
import {
  type Identity,
  type IdentityFlags,
  publishMessage,
  type PublishReport,
  resolveIdentityAt,
} from "../../lib/coord/helper.ts";
import {
  CLI_FILE_RECORD_KEYS,
  MARKER_KEYS,
  plainIdentity,
  plainMarker,
  plainPublishStatusMessage,
  statusInput,
  type StatusOptions,
} from "../../lib/coord/plain_status.ts";
import { plainGitDir } from "../../lib/coord/plain_layout.ts";
import { OUTBOX_FILE } from "../../lib/coord/outbox.ts";
import { AppError } from "../../lib/core/errors.ts";
import {
  addWorktree,
  deadUrl,
  git,
  run,
  SELF,
  tempBroker,
  tempRepo,
} from "./hooks_fixture.ts";

type Env = Record<string, string>;
const envOf = (e: Env) => (n: string): string | undefined => e[n];

/** A repo with `feat/a` set up by git-paw for claude against `url`. */
async function agentRepo(url: string) {
  const t = await tempRepo();
  const wt = await addWorktree(t, "feat/a");
  await setupAgentWorktree({
    repo: t.repo,
    project: "repo",
    agent: agentPlan({ branch: "feat/a", worktree: wt, cli: "claude" }),
    brokerUrl: url,
    peers: [],
    config: defaultConfig(),
    hookSelf: SELF,
    warn: () => {},
  });
  const gitDir = (await git(wt, "rev-parse", "--absolute-git-dir")).trim();
  return Object.assign(t, { wt, gitDir });
}

Deno.test("plainMarker() accepts exactly the markers AgentMarker accepts", async () => {
  await using t = await agentRepo("http://127.0.0.1:9");
  const real = JSON.parse(
    await Deno.readTextFile(join(t.gitDir, "paw-agent-id")),
  );
  assert.ok(real.cli_files.length > 0, "setup recorded claude's files");
  assert.deepEqual(
    [...MARKER_KEYS].sort(),
    Object.keys(AgentMarker.shape).sort(),
    "the plain check knows every marker field",
  );
  assert.deepEqual(
    [...CLI_FILE_RECORD_KEYS].sort(),
    Object.keys(CliFileRecord.shape).sort(),
  );
  const odd = [undefined, null, 0, 1, 2, true, "", "x", [], ["x"], [1], {}];
  const variants: unknown[] = [real, null, [], "x", [real]];
  const edit = (f: (m: Record<string, unknown>) => void) => {
    const m = structuredClone(real);
    f(m);
    variants.push(m);
  };
  for (const key of [...MARKER_KEYS, "extra"]) {
    for (const v of odd) edit((m) => (m[key] = v));
  }
  for (const key of ["mode", "created"]) {
    for (const v of [...odd, "exclude", "skip-worktree", "none", "bogus"]) {
      edit((m) => ((m.agents_md as Record<string, unknown>)[key] = v));
    }
  }
  for (const key of [...CLI_FILE_RECORD_KEYS, "extra"]) {
    for (
      const v of [...odd, "import", "json", "toml", "own", "exclude", "x"]
    ) {
      edit((m) => ((m.cli_files as Record<string, unknown>[])[0]![key] = v));
    }
  }
  edit((m) => (m.gemini_trust = { file: "f", path: "p" }));
  edit((m) => (m.gemini_trust = { file: "f" }));
  edit((m) => (m.gemini_trust = { file: "f", path: 1, more: 2 }));
  edit((m) => (m.broker_url = "not a url")); // a string: valid here
  let valid = 0;
  for (const v of variants) {
    const zod = AgentMarker.safeParse(v);
    const plain = plainMarker(v);
    assert.equal(plain !== null, zod.success, JSON.stringify(v));
    if (zod.success) {
      valid++;
      assert.deepEqual(plain, {
        agentId: zod.data.agent_id,
        brokerUrl: zod.data.broker_url,
      });
    }
  }
  assert.ok(valid > 20 && valid < variants.length - 50, `${valid} valid`);
});

Deno.test("plainGitDir() finds the git dir gitDirsFromLayout finds, or none", async () => {
  await using t = await agentRepo("http://127.0.0.1:9");
  const sub = join(t.wt, "sub");
  await Deno.mkdir(sub);
  const link = join(t.root, "link");
  await Deno.symlink(t.wt, link);
  const plainDir = join(t.root, "plain");
  await Deno.mkdir(plainDir);
  // A linked worktree whose `.git` file names its git dir relatively.
  const rel = join(t.root, "rel");
  await run("git", ["worktree", "add", "-q", "-b", "rel", rel], t.repo);
  const relGit = (await git(rel, "rev-parse", "--absolute-git-dir")).trim();
  await Deno.writeTextFile(
    join(rel, ".git"),
    `gitdir: ${join("..", "repo", ".git", "worktrees", "rel")}\n`,
  );
  const found: Record<string, string | null> = {};
  for (const top of [t.repo, t.wt, sub, link, plainDir, rel]) {
    const plain = plainGitDir(top, envOf({}));
    const full = await gitDirsFromLayout(top);
    found[top] = plain;
    assert.equal(plain, full?.gitDir ?? null, top);
  }
  assert.equal(found[t.wt], t.gitDir);
  assert.equal(found[rel], relGit);
  assert.equal(found[t.repo], join(t.repo, ".git"));
  assert.equal(found[sub], null);
  // GIT_DIR and friends: git decides.
  for (const n of ["GIT_DIR", "GIT_COMMON_DIR", "GIT_WORK_TREE"]) {
    assert.equal(plainGitDir(t.wt, envOf({ [n]: "/x" })), null, n);
  }
});

Deno.test("plainIdentity() resolves what resolveIdentityAt resolves, or leaves it to it", async () => {
  await using t = await agentRepo("http://127.0.0.1:9/");
  const cases: Array<{ flags: IdentityFlags; env: Env; plain: boolean }> = [
    { flags: {}, env: {}, plain: true },
    { flags: { agent: "feat-a" }, env: {}, plain: true },
    { flags: {}, env: { GIT_PAW_AGENT_ID: " feat-a " }, plain: true },
    { flags: { agent: "" }, env: { GIT_PAW_AGENT_ID: "  " }, plain: true },
    { flags: {}, env: { GIT_PAW_BROKER_TOKEN: "tok" }, plain: true },
    {
      flags: { token: "flag" },
      env: { GIT_PAW_BROKER_TOKEN: "e" },
      plain: true,
    },
    { flags: { broker: " http://127.0.0.1:7// " }, env: {}, plain: true },
    { flags: {}, env: { GIT_PAW_BROKER_URL: "http://x:1" }, plain: true },
    // The full path decides these (a slug variant, a mismatch, a bad URL).
    { flags: { agent: "feat/a" }, env: {}, plain: false },
    { flags: {}, env: { GIT_PAW_AGENT_ID: "feat-b" }, plain: false },
    { flags: { broker: "ftp://x" }, env: {}, plain: false },
    { flags: { broker: "nonsense" }, env: {}, plain: false },
    { flags: {}, env: { GIT_DIR: join(t.repo, ".git") }, plain: false },
  ];
  for (const c of cases) {
    const what = JSON.stringify(c);
    const plain = plainIdentity(c.flags, { cwd: t.wt, env: envOf(c.env) });
    assert.equal(plain !== null, c.plain, what);
    if (plain === null) continue;
    const full = await resolveIdentityAt(t.wt, c.flags, envOf(c.env));
    assert.deepEqual(plain, full, what);
    assert.ok(plain.agentKey, "the key file's key");
  }
  // No marker (the main checkout), below the top: the full path.
  for (const cwd of [t.repo, join(t.wt, ".claude")]) {
    assert.equal(plainIdentity({}, { cwd, env: envOf({}) }), null, cwd);
  }
});

/** The report without the fresh `msg_id`, which never matches. */
function shape(r: PublishReport) {
  const { msg_id, ...message } = r.message as Record<string, unknown>;
  assert.match(String(msg_id), /^[0-9a-f-]{36}$/);
  return { ...r, message };
}

/** Run the full path as `publish status` does. */
async function full(cwd: string, status: string, o: StatusOptions, env: Env) {
  const id: Identity = await resolveIdentityAt(cwd, o, envOf(env));
  return await publishMessage(id, statusInput(id.agentId, status, o));
}

Deno.test("plainPublishStatusMessage() sends what publishMessage sends", async () => {
  await using b = await tempBroker();
  await using t = await agentRepo(b.url);
  const o: StatusOptions = {
    message: "parsing é",
    files: ["a.ts,b.ts", " c.ts "],
    phase: "p",
    cli: "claude",
  };
  const sent = await plainPublishStatusMessage("working", o, {
    cwd: t.wt,
    env: envOf({}),
  });
  assert.ok(sent, "the plain path took it");
  const byFull = await full(t.wt, "working", o, {});
  assert.deepEqual(sent.id, await resolveIdentityAt(t.wt, o, envOf({})));
  assert.deepEqual(shape(sent.report), shape(byFull));
  const log = (await b.logSince(0)).map((e) => {
    const { msg_id: _drop, ...m } = e.message as Record<string, unknown>;
    return m;
  });
  assert.equal(log.length, 2);
  assert.deepEqual(log[0], log[1]);
  // A status the zod-free validator is not sure about: the full path's.
  assert.equal(
    await plainPublishStatusMessage(" ", {}, { cwd: t.wt, env: envOf({}) }),
    null,
  );
});

Deno.test("plainPublishStatusMessage() queues and refuses as publishMessage does", async () => {
  // A broker that answers `status`, and one that is not there.
  let answer = 503;
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    async (req) => {
      await req.body?.cancel();
      return Response.json({ error: "no", detail: `said ${answer}` }, {
        status: answer,
      });
    },
  );
  try {
    const url = `http://127.0.0.1:${server.addr.port}`;
    await using t = await agentRepo(url);
    const outbox = join(t.gitDir, OUTBOX_FILE);
    const ctx = { cwd: t.wt, env: envOf({}) };
    const queuedLines = async () =>
      (await Deno.readTextFile(outbox)).trim().split("\n").map((l) => {
        const { msg_id: _drop, ...m } = JSON.parse(l);
        return m;
      });
    for (const broker of [url, deadUrl()]) {
      const o: StatusOptions = { broker, message: "m" };
      const plain = await plainPublishStatusMessage("working", o, ctx);
      assert.ok(plain, broker);
      const plainQueued = await queuedLines();
      // Something waits now: the plain path leaves the call to the full one.
      assert.equal(await plainPublishStatusMessage("x", o, ctx), null);
      assert.deepEqual(await queuedLines(), plainQueued);
      await Deno.remove(outbox);
      const byFull = await full(t.wt, "working", o, {});
      assert.deepEqual(shape(plain.report), shape(byFull), broker);
      assert.match(plain.report.queued!, / \(1 waiting\)$/);
      assert.deepEqual(await queuedLines(), plainQueued);
      await Deno.remove(outbox);
    }
    for (const status of [400, 403, 413, 421]) {
      answer = status;
      const plain = await plainPublishStatusMessage("working", {}, ctx)
        .then(() => null, (e) => e);
      const byFull = await full(t.wt, "working", {}, {})
        .then(() => null, (e) => e);
      assert.ok(plain instanceof AppError, `${status}`);
      assert.ok(byFull instanceof AppError, `${status}`);
      assert.equal(plain.message, byFull.message);
      assert.equal(plain.code, byFull.code);
      assert.equal(plain.exitCode, byFull.exitCode);
      assert.match(plain.message, new RegExp(`answered ${status}: no`));
    }
    assert.equal(await Deno.stat(outbox).catch(() => null), null);
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("publish status in an agent worktree runs the plain path and prints as before", async () => {
  await using b = await tempBroker();
  await using t = await agentRepo(b.url);
  const env = {
    GIT_PAW_AGENT_ID: "",
    GIT_PAW_BROKER_URL: "",
    GIT_PAW_BROKER_TOKEN: "",
    GIT_PAW_TRACE: "1",
  };
  const r = await run(
    SELF[0]!,
    [...SELF.slice(1), "publish", "status", "working", "--message", "m"],
    t.wt,
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, "published agent.status as feat-a\n");
  assert.match(r.stderr, /helper: published plainly/);
  assert.doesNotMatch(r.stderr, /helper: loaded/);
  // Below the worktree's top: the full path, the same answer.
  const below = await run(
    SELF[0]!,
    [...SELF.slice(1), "publish", "status", "working", "--message", "m"],
    join(t.wt, ".claude"),
    env,
  );
  assert.equal(below.code, 0, below.stderr);
  assert.equal(below.stdout, "published agent.status as feat-a\n");
  assert.match(below.stderr, /helper: loaded/);
  assert.equal((await b.logSince(0)).length, 2);
});
