/**
 * Two sessions started at the same moment that want the same broker port:
 * each must end with its own broker (one of them moves), and each session's
 * agents must be pointed at their own session's broker.
 */
import assert from "node:assert/strict";
import {
  makeWorld,
  panes,
  statusJson,
  waitFor,
  type World,
} from "./e2e_helpers.ts";

async function brokerSession(url: string): Promise<string | null> {
  try {
    const r = await fetch(`${url}/status`, {
      signal: AbortSignal.timeout(2000),
    });
    const j = await r.json();
    return typeof j.session === "string" ? j.session : null;
  } catch {
    return null;
  }
}

/** GIT_PAW_BROKER_URL of every agent pane's process (read from /proc). */
async function agentBrokerUrls(w: World, session: string): Promise<string[]> {
  const out: string[] = [];
  for (const p of await panes(w, session)) {
    if (!p.agent) continue;
    const r = await w.tmux([
      "display-message",
      "-p",
      "-t",
      p.id,
      "#{pane_pid}",
    ]);
    const pid = r.stdout.trim();
    const env = await Deno.readTextFile(`/proc/${pid}/environ`);
    const line = env.split("\0").find((l) =>
      l.startsWith("GIT_PAW_BROKER_URL=")
    );
    out.push(line ? line.slice("GIT_PAW_BROKER_URL=".length) : "");
  }
  return out;
}

Deno.test("git paw start of two sessions at once on the same configured port ends with two brokers, each agent pointed at its own", async () => {
  await using a = await makeWorld({ project: "alpha" });
  await using b = await makeWorld({ project: "beta" });
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await a.writeConfig(`[broker]\nport = ${port}\n`);
  await b.writeConfig(`[broker]\nport = ${port}\n`);
  const [ra, rb] = await Promise.all([
    a.paw(["start", "--cli", "demo", "--branches", "feat/a"]),
    b.paw(["start", "--cli", "demo", "--branches", "feat/b"]),
  ]);
  assert.equal(ra.code, 0, ra.stderr);
  assert.equal(rb.code, 0, rb.stderr);
  const sa = await statusJson(a) as { session: string; broker_url: string };
  const sb = await statusJson(b) as { session: string; broker_url: string };
  assert.equal(sa.session, "paw-alpha");
  assert.equal(sb.session, "paw-beta");
  assert.notEqual(sa.broker_url, sb.broker_url);
  // One of them kept the configured port.
  assert.ok(
    [sa.broker_url, sb.broker_url].includes(`http://127.0.0.1:${port}`),
    `${sa.broker_url} ${sb.broker_url}`,
  );
  assert.equal(
    await waitFor("broker A", () => brokerSession(sa.broker_url)),
    "paw-alpha",
  );
  assert.equal(
    await waitFor("broker B", () => brokerSession(sb.broker_url)),
    "paw-beta",
  );
  for (const [w, s] of [[a, sa], [b, sb]] as const) {
    const env = await w.tmux([
      "show-environment",
      "-t",
      `=${s.session}`,
      "GIT_PAW_BROKER_URL",
    ]);
    assert.equal(env.stdout.trim(), `GIT_PAW_BROKER_URL=${s.broker_url}`);
    const urls = await agentBrokerUrls(w, s.session);
    assert.equal(urls.length, 1);
    assert.deepEqual(urls, [s.broker_url]);
  }
});

Deno.test("git paw start prints the web dashboard address and, with learnings on, where learnings are written", async () => {
  await using w = await makeWorld({ project: "gamma" });
  await w.writeConfig("[broker.learnings]\nenabled = true\n");
  const r = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(r.code, 0, r.stderr);
  const url = (await statusJson(w)).broker_url!;
  const lines = r.stderr.split("\n");
  const started = lines.findIndex((l) => l.startsWith("Started session"));
  assert.ok(started >= 0, r.stderr);
  assert.equal(lines[started + 1], `Web dashboard: ${url}/`);
  const notice = lines.find((l) => l.includes("session-learnings.md"));
  assert.ok(notice, r.stderr);
  assert.ok(
    notice.includes(`${w.repo}/.git-paw/session-learnings.md`),
    notice,
  );
  assert.match(notice, /nothing is sent anywhere/);
  const page = await fetch(`${url}/`);
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type") ?? "", /text\/html/);
  await page.body?.cancel();
});

Deno.test("git paw start prints no learnings notice when learnings are off", async () => {
  await using w = await makeWorld({ project: "delta" });
  const r = await w.paw(["start", "--cli", "demo", "--branches", "feat/a"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^Web dashboard: http:\/\/127\.0\.0\.1:\d+\/$/m);
  assert.doesNotMatch(r.stderr, /session-learnings/);
});
