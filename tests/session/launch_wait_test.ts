/**
 * How `start` learns that pane 0 holds the broker's port: the dashboard
 * process binds first thing and reports in its ready file; someone else's
 * server on the port is reported as taken.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { waitForDashboard } from "../../lib/session/launch.ts";
import { pawCommand } from "../_helpers/paw_command.ts";

/** `__dashboard` outside tmux for session paw-x of `dir`, on `port`. */
function spawnDashboard(
  dir: string,
  port: number,
  ready: string,
): Deno.ChildProcess {
  return pawCommand([
    "__dashboard",
    "--session",
    "paw-x",
    "--repo",
    dir,
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--ready-file",
    ready,
  ], {
    env: {
      GIT_PAW_DASHBOARD_OUTSIDE_TMUX: "1",
      XDG_DATA_HOME: join(dir, "data"),
      XDG_CONFIG_HOME: join(dir, "config"),
    },
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

Deno.test("waitForDashboard() reads pane 0's report once it appears, then removes the file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "ready.json");
    const later = setTimeout(
      () =>
        Deno.writeTextFileSync(
          file,
          JSON.stringify({ status: "listening", pid: 1, port: 9 }),
        ),
      50,
    );
    assert.equal(await waitForDashboard(file, 5_000), "ours");
    clearTimeout(later);
    assert.throws(() => Deno.statSync(file), Deno.errors.NotFound);
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        status: "taken",
        pid: 1,
        holder: "foreign",
        detail: "x",
      }),
    );
    assert.equal(await waitForDashboard(file, 5_000), "taken");
    await Deno.writeTextFile(file, "{not json");
    assert.equal(await waitForDashboard(file, 5_000), "timeout");
    await Deno.writeTextFile(
      file,
      JSON.stringify({ status: "failed", pid: 1, detail: "x" }),
    );
    assert.equal(await waitForDashboard(file, 5_000), "failed");
    // Nothing ever comes.
    assert.equal(
      await waitForDashboard(join(dir, "none.json"), 200),
      "timeout",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Run `__dashboard` outside tmux until its ready file appears. */
async function dashboardReport(port: number): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir();
  const ready = join(dir, "ready.json");
  const child = spawnDashboard(dir, port, ready);
  try {
    const started = Date.now();
    for (;;) {
      try {
        return JSON.parse(await Deno.readTextFile(ready));
      } catch (e) {
        if (!(e instanceof Deno.errors.NotFound)) throw e;
      }
      if (Date.now() - started > 20_000) throw new Error("no ready file");
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("pane 0 reports a port held by a foreign HTTP server as taken, at once", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("hello"),
  );
  try {
    const t0 = Date.now();
    const doc = await dashboardReport(server.addr.port);
    assert.equal(doc.status, "taken");
    assert.equal(doc.holder, "foreign");
    // Not after the 3 s bind deadline: start can move on right away.
    assert.ok(Date.now() - t0 < 2_900, `took ${Date.now() - t0} ms`);
  } finally {
    await server.shutdown();
  }
});

Deno.test("pane 0 reports another session's broker on the port as taken", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => Response.json({ git_paw: true, session: "paw-other" }),
  );
  try {
    const doc = await dashboardReport(server.addr.port);
    assert.equal(doc.status, "taken");
    assert.equal(doc.holder, "other-session");
  } finally {
    await server.shutdown();
  }
});

Deno.test("pane 0 reports a holder that accepts connections and never answers as taken after its bind deadline", async () => {
  // Accepts connections (kernel backlog) but never speaks HTTP.
  const silent = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const doc = await dashboardReport((silent.addr as Deno.NetAddr).port);
    assert.equal(doc.status, "taken");
    assert.equal(doc.holder, "timeout");
  } finally {
    silent.close();
  }
});

Deno.test("pane 0 reports a free port as listening, with its own pid", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const doc = await dashboardReport(port);
  assert.equal(doc.status, "listening");
  assert.equal(doc.port, port);
  assert.equal(typeof doc.pid, "number");
});

Deno.test("pane 0 holds requests while the launching command holds the session lock, not for the next holder", async () => {
  const dir = await Deno.makeTempDir();
  const ready = join(dir, "ready.json");
  const lock = join(dir, ".git-paw", "session.lock");
  await Deno.mkdir(join(dir, ".git-paw"));
  const lockOf = (pid: number) =>
    JSON.stringify({ pid, hostname: "h", started_at: "2026-01-01T00:00:00Z" });
  await Deno.writeTextFile(lock, lockOf(111));
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const child = spawnDashboard(dir, port, ready);
  try {
    assert.equal(await waitForDashboard(ready, 20_000), "ours");
    const held = fetch(`http://127.0.0.1:${port}/status`);
    let answered = false;
    held.then(() => answered = true, () => {});
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(answered, false, "answered while the lock was held");
    // Another command takes the lock (e.g. `git paw add` right after
    // start): it may need the broker, so pane 0 stops waiting.
    await Deno.writeTextFile(lock, lockOf(222));
    // No receipt in this world: the broker cannot start, and says so.
    const res = await held;
    assert.equal(res.status, 503);
    assert.match(await res.text(), /no session receipt for 'paw-x'/);
  } finally {
    child.kill("SIGTERM");
    await child.status;
    await Deno.remove(dir, { recursive: true });
  }
});
