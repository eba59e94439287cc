import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../_helpers/broker.ts";
import { probeBroker } from "../../lib/broker/probe.ts";
import { waitFor } from "../_helpers/wait.ts";
import { spawnBroker as spawnBrokerProcess } from "../_helpers/broker.ts";
import { addWorktree, initRepo } from "../_helpers/repo.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));

/** Spawn `git-paw broker …` and wait for its first stdout line. */
function spawnBroker(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
) {
  return spawnBrokerProcess(args, { env, ...(cwd ? { cwd } : {}) });
}

async function curl(args: string[]) {
  const r = await new Deno.Command("curl", {
    args: ["-sS", "--max-time", "10", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: r.code,
    out: new TextDecoder().decode(r.stdout),
    err: new TextDecoder().decode(r.stderr),
  };
}

Deno.test("git-paw broker prints its URL first, takes curl publishes, and SIGTERM leaves the log on disk", async () => {
  await using dir = await tempDir();
  const b = await spawnBroker([
    "--port",
    "0",
    "--data-dir",
    dir.path,
    "--session",
    "e2e",
  ]);
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(b.firstLine)?.[0];
  assert.ok(url, `first line has the URL: ${b.firstLine}`);

  // The recipe agents already know, with the real curl binary.
  const pub = await curl([
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    "-X",
    "POST",
    "-H",
    "Content-Type: application/json",
    "-d",
    JSON.stringify({
      type: "agent.status",
      agent_id: "feat/e2e",
      payload: { status: "working", modified_files: ["a.ts"] },
    }),
    `${url}/publish`,
  ]);
  assert.equal(pub.out, "202", pub.err);
  await curl([
    "-X",
    "POST",
    "-H",
    "Content-Type: application/json",
    "-d",
    '{"type":"agent.question","agent_id":"feat-e2e","payload":{"question":"ok?"}}',
    `${url}/publish`,
  ]);
  const poll = await curl([`${url}/messages/supervisor?since=0`]);
  assert.equal(JSON.parse(poll.out).messages[0].seq, 2);
  assert.equal(await probeBroker(url!, "e2e"), "ours");
  assert.equal(await probeBroker(url!, "other"), "other-session");

  b.child.kill("SIGTERM");
  const status = await b.child.status;
  await b.rest;
  const err = await b.errText;
  assert.equal(status.code, 0, err);
  assert.match(err, /stopped/);

  const jsonl = (await Deno.readTextFile(join(dir.path, "e2e.jsonl"))).trim()
    .split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(jsonl.map((e) => e.seq), [1, 2]);
  assert.equal(jsonl[0].message.agent_id, "feat-e2e");
  const human = await Deno.readTextFile(join(dir.path, "e2e.broker.log"));
  assert.match(
    human,
    /^\[1\] \d+ \[feat-e2e\] \[feat-e2e\] status: working \(1 files modified\)\n\[2\] \d+ \[feat-e2e\] \[feat-e2e\] question: ok\?\n$/,
  );
  assert.equal(await probeBroker(url!), "free");
});

Deno.test("git-paw broker refuses a port held by another session's broker, naming a remedy", async () => {
  await using dir = await tempDir();
  const first = await spawnBroker([
    "--port",
    "0",
    "--data-dir",
    dir.path,
    "--session",
    "one",
  ]);
  try {
    const port = /127\.0\.0\.1:(\d+)/.exec(first.firstLine)![1]!;
    const second = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        MAIN,
        "broker",
        "--port",
        port,
        "--data-dir",
        dir.path,
        "--session",
        "two",
      ],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const err = new TextDecoder().decode(second.stderr);
    assert.equal(second.code, 1, err);
    assert.match(
      err,
      /^error: port \d+ is used by another git-paw session's broker/,
    );
    assert.match(err, /--port 0/);
    const bad = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "broker", "--port", "http"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(bad.code, 2);
    assert.match(new TextDecoder().decode(bad.stderr), /invalid --port/);
  } finally {
    first.child.kill("SIGINT");
    assert.equal((await first.child.status).code, 0);
    await first.rest;
    await first.errText;
  }
});

Deno.test("probeBroker() tells free, foreign and timeout apart", async () => {
  // free: a port we just released.
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const freePort = (l.addr as Deno.NetAddr).port;
  l.close();
  assert.equal(await probeBroker(`http://127.0.0.1:${freePort}`), "free");

  const foreign = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => Response.json({ hello: "world" }),
  );
  try {
    assert.equal(
      await probeBroker(`http://127.0.0.1:${foreign.addr.port}`),
      "foreign",
    );
  } finally {
    await foreign.shutdown();
  }

  // timeout: accepts the connection, never answers.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of silent) conns.push(c);
  })();
  try {
    const t0 = performance.now();
    assert.equal(
      await probeBroker(
        `http://127.0.0.1:${(silent.addr as Deno.NetAddr).port}`,
      ),
      "timeout",
    );
    assert.ok(performance.now() - t0 < 3000);
  } finally {
    silent.close();
    for (const c of conns) c.close();
    await accepting.catch(() => {});
  }
});

Deno.test("git-paw broker bound beyond loopback prints a /?token= link that logs a browser in", async () => {
  await using dir = await tempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      MAIN,
      "broker",
      "--bind",
      "0.0.0.0",
      "--port",
      "0",
      "--data-dir",
      dir.path,
      "--session",
      "wide",
    ],
    stdout: "piped",
    stderr: "null",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  try {
    while (!/web dashboard: \S+\n/.test(out)) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const token = /^token: (\S+)$/m.exec(out)?.[1];
    assert.ok(token, out);
    const link = /^web dashboard: (http:\/\/0\.0\.0\.0:\d+\/\?token=(\S+))$/m
      .exec(out);
    assert.ok(link, out);
    assert.equal(decodeURIComponent(link[2]!), token);
    const r = await fetch(link[1]!.replace("0.0.0.0", "127.0.0.1"), {
      redirect: "manual",
    });
    await r.body?.cancel();
    assert.equal(r.status, 303);
    const cookie = (r.headers.get("set-cookie") ?? "").split(";")[0]!;
    assert.match(cookie, /^git_paw_token=/);
    // The standalone broker serves the live page too, so the link lands on it.
    const home = r.headers.get("location") ?? "";
    assert.match(home, /^\/s\/[0-9a-f]{32}\/$/);
    const page = await fetch(
      link[1]!.replace("0.0.0.0", "127.0.0.1").replace(/\/\?token=.*$/, home),
      { headers: { cookie } },
    );
    assert.equal(page.status, 200);
    assert.match(await page.text(), /git-paw/);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await reader.cancel().catch(() => {});
  }
});

Deno.test("git-paw broker runs the coordination plugins: /watch is watched, overlapping intents draw conflict feedback", async () => {
  await using dir = await tempDir();
  const repo = join(dir.path, "repo");
  const wt = join(dir.path, "repo-feat-w");
  const home = join(dir.path, "home");
  await Deno.mkdir(home);
  await initRepo(repo, { files: { "README.md": "hello\n" } });
  await addWorktree(repo, "feat/w", wt);

  const b = await spawnBroker(
    ["--port", "0", "--data-dir", join(dir.path, "data"), "--session", "co"],
    { HOME: home, XDG_CONFIG_HOME: join(home, ".config") },
    repo,
  );
  const url = /http:\/\/127\.0\.0\.1:\d+/.exec(b.firstLine)?.[0];
  assert.ok(url, `first line has the URL: ${b.firstLine}`);
  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await res.body?.cancel();
    return res.status;
  };
  try {
    // The watcher: an edit in the registered worktree is reported for it.
    assert.equal(
      await post("/watch", { agent_id: "feat/w", worktree_path: wt }),
      202,
    );
    await Deno.writeTextFile(join(wt, "README.md"), "hello, edited\n");
    const files = await waitFor("the watcher's report", async () => {
      const log = await (await fetch(`${url}/log?since=0`)).json();
      const hit = log.entries.find((
        e: { message: { type: string; agent_id?: string } },
      ) =>
        e.message.type === "agent.status" && e.message.agent_id === "feat-w"
      );
      return hit ? hit.message.payload.modified_files as string[] : null;
    });
    assert.deepEqual(files, ["README.md"]);

    // The conflict detector: overlapping intents warn both agents.
    for (const agent of ["feat-a", "feat-b"]) {
      assert.equal(
        await post("/publish", {
          type: "agent.intent",
          agent_id: agent,
          payload: { files: ["x.ts"], summary: "s", valid_for_seconds: 600 },
        }),
        202,
      );
    }
    for (const agent of ["feat-a", "feat-b"]) {
      const other = agent === "feat-a" ? "feat-b" : "feat-a";
      const feedback = await waitFor(
        `conflict feedback for ${agent}`,
        async () => {
          const page = await (await fetch(`${url}/messages/${agent}?since=0`))
            .json();
          const fb = page.messages.filter((m: { type: string }) =>
            m.type === "agent.feedback"
          );
          return fb.length ? fb : null;
        },
      );
      const text = JSON.stringify(feedback);
      assert.match(text, /x\.ts/);
      assert.match(text, new RegExp(other));
    }
  } finally {
    b.child.kill("SIGTERM");
    await b.child.status;
    await b.rest;
    await b.errText;
  }
});
