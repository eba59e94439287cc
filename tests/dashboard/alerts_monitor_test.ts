import assert from "node:assert/strict";
import { join } from "node:path";
import { mergeConfig } from "../../lib/core/config.ts";
import { startBroker } from "../../lib/broker/server.ts";
import type { Notice } from "../../lib/core/notify_throttle.ts";
import {
  AlertMonitor,
  alertMonitorFor,
  alertsPlugin,
  bellSink,
  notifyCommandSink,
} from "../../lib/dashboard/alerts.ts";
import { waitFor } from "../_helpers/wait.ts";
import { testBroker } from "../_helpers/broker.ts";

async function post(url: string, body: unknown): Promise<number> {
  const res = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  await res.body?.cancel();
  return res.status;
}

async function tmux(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command("tmux", {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    ok: out.success,
    stdout: new TextDecoder().decode(out.stdout),
    stderr: new TextDecoder().decode(out.stderr),
  };
}

const blocked = (id: string, needs: string) => ({
  type: "agent.blocked",
  agent_id: id,
  payload: { needs, from: "feat-b" },
});

Deno.test("alertsPlugin() runs the notify command once per cause and shows an escaped tmux message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alerts-" });
  const tmuxDir = join(dir, "tmux");
  await Deno.mkdir(tmuxDir);
  const env = { TMUX_TMPDIR: tmuxDir, LANG: "C.UTF-8" };
  const session = "paw-alerts";
  // A real tmux server with the session and a control-mode client attached,
  // so display-message has somewhere to go and show-messages can read it.
  assert.ok(
    (await tmux(
      env,
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "80",
      "-y",
      "20",
      "sleep 600",
    )).ok,
  );
  const client = new Deno.Command("tmux", {
    args: ["-C", "attach", "-t", session],
    env,
    stdin: "piped",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const argvFile = join(dir, "argv.txt");
  const script = join(dir, "notify.sh");
  await Deno.writeTextFile(
    script,
    `#!/bin/sh\nout="$1"; shift\nprintf '%s|' "$@" >> "$out"\necho >> "$out"\n`,
  );
  const broker = await startBroker({
    port: 0,
    dataDir: join(dir, "data"),
    session,
    quiet: true,
    plugins: [alertsPlugin({
      session,
      config: mergeConfig({}, {
        notify: {
          command: ["/bin/sh", script, argvFile],
          bell: false,
          stall_threshold_seconds: 3600,
        },
      }),
      tmuxEnv: env,
    })],
  });
  try {
    const monitor = alertMonitorFor(broker);
    assert.ok(monitor, "the plugin registered its monitor");
    assert.equal(
      await post(broker.url, blocked("feat-a", "the #(touch pwned) schema")),
      202,
    );
    assert.equal(
      await post(broker.url, {
        type: "agent.question",
        agent_id: "feat-c",
        payload: { question: "ship it?\x1b[2J" },
      }),
      202,
    );
    await waitFor("two alerts", () => monitor.fired.length === 2);
    await monitor.idle();
    // Unrelated traffic and roster changes fire nothing more.
    assert.equal(
      await post(broker.url, {
        type: "agent.status",
        agent_id: "feat-d",
        payload: { status: "working", modified_files: [] },
      }),
      202,
    );
    await waitFor(
      "status seen",
      () => broker.agents().some((a) => a.agent_id === "feat-d"),
    );
    await monitor.idle();
    const lines = (await Deno.readTextFile(argvFile)).trim().split("\n");
    // Each with the web link to its agent's row.
    assert.deepEqual(lines, [
      `feat-a|blocked|needs the #(touch pwned) schema from feat-b · web: ${broker.url}/#agent-feat-a|`,
      `feat-c|question|ship it?␛[2J · web: ${broker.url}/#agent-feat-c|`,
    ]);
    // tmux got the message with # doubled (format expansion cannot run it).
    const msgs = await waitFor("tmux message log", async () => {
      const r = await tmux(env, "show-messages");
      return r.stdout.includes("display-message") ? r.stdout : "";
    });
    assert.ok(
      msgs.includes(
        "git-paw: feat-a is blocked — needs the ##(touch pwned) schema from feat-b",
      ),
      msgs,
    );
    assert.ok(msgs.includes("git-paw: feat-c asks — ship it?␛[2J"), msgs);
    await assert.rejects(Deno.stat(join(dir, "pwned")), Deno.errors.NotFound);
    await assert.rejects(Deno.stat("pwned"), Deno.errors.NotFound);
  } finally {
    await broker.close();
    try {
      await client.stdin.close();
    } catch { /* gone */ }
    await tmux(env, "kill-server");
    await client.status;
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AlertMonitor fires a stall once from one timer, and again only after the agent spoke", async () => {
  await using broker = await testBroker({ session: "s" });
  const seen: Notice[] = [];
  const monitor = new AlertMonitor(broker, {
    settings: { stallThresholdSeconds: 1, maxMessages: 100 },
    sinks: [(a) => void seen.push(a)],
  });
  try {
    await monitor.start();
    assert.equal(monitor.nextDeadline, null, "nobody to watch: no timer");
    const working = {
      type: "agent.status",
      agent_id: "feat-a",
      payload: { status: "working", modified_files: [] },
    };
    assert.equal(await post(broker.url, working), 202);
    await waitFor("a deadline", () => monitor.nextDeadline !== null);
    await waitFor("stall", () => seen.some((a) => a.reason === "stalled"));
    assert.equal(monitor.nextDeadline, null, "fired: no timer until it speaks");
    assert.deepEqual(monitor.active().map((a) => [a.agent_id, a.reason]), [[
      "feat-a",
      "stalled",
    ]]);
    // Speaking again clears it and arms a new deadline.
    assert.equal(await post(broker.url, working), 202);
    // Under load the next stall may already have fired by the time this
    // looks: cleared, or stalled a second time, both follow the speaking.
    await waitFor(
      "cleared",
      () =>
        monitor.active().length === 0 ||
        seen.filter((a) => a.reason === "stalled").length === 2,
    );
    await waitFor(
      "second stall",
      () => seen.filter((a) => a.reason === "stalled").length === 2,
    );
    assert.equal(seen.length, 2);
    // A done agent is never stalled.
    assert.equal(
      await post(broker.url, {
        ...working,
        payload: { status: "done", modified_files: [] },
      }),
      202,
    );
    await waitFor(
      "no deadline for done",
      () => monitor.nextDeadline === null && monitor.active().length === 0,
    );
  } finally {
    await monitor.stop();
  }
});

Deno.test("AlertMonitor.start() marks history as attention without firing it", async () => {
  await using broker = await testBroker({ session: "s" });
  const seen: Notice[] = [];
  const monitor = new AlertMonitor(broker, {
    settings: { stallThresholdSeconds: 3600, maxMessages: 100 },
    sinks: [(a) => void seen.push(a)],
  });
  try {
    assert.equal(await post(broker.url, blocked("feat-a", "x")), 202);
    await monitor.start();
    assert.deepEqual(monitor.active().map((a) => a.reason), ["blocked"]);
    assert.deepEqual(seen, []);
  } finally {
    await monitor.stop();
  }
});

Deno.test("notifyCommandSink() passes arguments verbatim, with no shell", async () => {
  const dir = await Deno.makeTempDir({ prefix: "alerts-argv-" });
  try {
    const out = join(dir, "out");
    const sink = notifyCommandSink([
      "/bin/sh",
      "-c",
      'printf "%s\\n" "$@" > "$0"',
      out,
    ]);
    await sink({
      agent_id: "feat-a",
      reason: "question",
      detail: "$(touch x); `id`",
      seq: 1,
      since: 0,
    });
    assert.equal(
      await Deno.readTextFile(out),
      "feat-a\nquestion\n$(touch x); `id`\n",
    );
    await assert.rejects(Deno.stat(join(dir, "x")), Deno.errors.NotFound);
    const failing = notifyCommandSink(["/bin/false"]);
    await assert.rejects(() =>
      Promise.resolve(
        failing({
          agent_id: "a",
          reason: "stalled",
          detail: "",
          seq: null,
          since: 0,
        }),
      ) as Promise<void>, /command exited with code 1/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bellSink() writes exactly one BEL per alert", async () => {
  const writes: string[] = [];
  const sink = bellSink((s) => writes.push(s));
  await sink({
    agent_id: "a",
    reason: "blocked",
    detail: "",
    seq: 1,
    since: 0,
  });
  assert.deepEqual(writes, ["\x07"]);
});

Deno.test("dashboardPlugins() includes the alerts plugin", async () => {
  const { dashboardPlugins } = await import("../../lib/dashboard/plugins.ts");
  const { defaultConfig } = await import("../../lib/core/config.ts");
  const names = dashboardPlugins({
    repo: "/tmp/x",
    session: "paw-x",
    config: defaultConfig(),
  }).map((p) => p.name);
  assert.ok(names.includes("alerts"), names.join(","));
});

Deno.test("AlertMonitor runs its sinks once for 200 forged agent.blocked, then one summary", async () => {
  await using broker = await testBroker({ session: "s" });
  const seen: Notice[] = [];
  const monitor = new AlertMonitor(broker, {
    settings: { stallThresholdSeconds: 3600, maxMessages: 100 },
    sinks: [(a) => void seen.push(a)],
    // One summary window holds all 200 even on a loaded machine.
    throttle: { summarySeconds: 2 },
  });
  try {
    await monitor.start();
    const codes = await Promise.all(
      Array.from(
        { length: 200 },
        (_, i) => post(broker.url, blocked("feat-a", `x${i}`)),
      ),
    );
    assert.deepEqual(new Set(codes), new Set([202]));
    await waitFor("all fired", () => monitor.fired.length === 200);
    await waitFor("the summary", () => seen.length === 2);
    await monitor.idle();
    assert.equal(seen[0]!.reason, "blocked");
    assert.equal(seen[1]!.reason, "suppressed");
    assert.equal(seen[1]!.agent_id, "feat-a");
    assert.match(
      seen[1]!.detail,
      /^199 notifications held back .*feat-a blocked ×199$/,
    );
    // The attention item is still there for the dashboards.
    assert.deepEqual(monitor.active().map((a) => a.reason), ["blocked"]);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(seen.length, 2, "nothing more");
  } finally {
    await monitor.stop();
  }
});
