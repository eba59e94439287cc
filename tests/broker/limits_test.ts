/**
 * What one client can hold: a long poll whose client hung up is released at
 * once, a body that does not arrive in time gets a 408, and beyond the caps
 * on open requests and long polls the broker answers 503 (JSON) while normal
 * traffic goes on.
 */
import assert from "node:assert/strict";
import { get, post, testBroker } from "../_helpers/broker.ts";
import { waitFor } from "../_helpers/wait.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Everything the server sends until it closes the connection (or `ms`). */
async function readAll(conn: Deno.Conn, ms: number): Promise<string> {
  const buf = new Uint8Array(4096);
  let out = "";
  const end = Date.now() + ms;
  for (;;) {
    const left = end - Date.now();
    if (left <= 0) return out + "<still open>";
    let t: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      conn.read(buf),
      new Promise<"late">((r) => t = setTimeout(r, left, "late")),
    ]);
    clearTimeout(t);
    if (n === "late") return out + "<still open>";
    if (n === null) return out;
    out += dec.decode(buf.subarray(0, n));
  }
}

Deno.test("a long poll whose client hangs up is released at once", async () => {
  await using b = await testBroker();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
  await conn.write(enc.encode(
    "GET /messages/feat-a?since=0&wait=60 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
  ));
  await waitFor("the poll to wait", () => b.load().longPolls === 1);
  assert.equal(b.load().openRequests, 1);
  const hungUp = Date.now();
  conn.close();
  await waitFor("the poll to be released", () => b.load().longPolls === 0);
  await waitFor("the request to end", () => b.load().openRequests === 0);
  assert.ok(
    Date.now() - hungUp < 1000,
    `released in ${Date.now() - hungUp} ms`,
  );
  // The broker still answers polls.
  const r = await get(`${b.url}/messages/feat-a?since=0&wait=0`);
  assert.equal(r.status, 200);
});

Deno.test("a request body that trickles in is cut off with 408", async () => {
  await using b = await testBroker({ limits: { bodyTimeoutMs: 300 } });
  for (const path of ["/publish", "/watch"]) {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
    const t0 = Date.now();
    await conn.write(enc.encode(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{"type":`,
    ));
    const answer = await readAll(conn, 1500);
    const took = Date.now() - t0;
    conn.close();
    // Deno.serve keeps the socket until the client closes it (no way to
    // close it from the handler); the request itself is over.
    assert.match(answer, /^HTTP\/1\.1 408 /, `${path}: ${answer}`);
    assert.match(answer, /request body timeout/);
    assert.match(answer, /connection: close/i);
    assert.ok(took >= 250, `${path}: ${took} ms`);
  }
  await waitFor("no open request", () => b.load().openRequests === 0);
  // A chunked body that stalls is cut off too.
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
  await conn.write(enc.encode(
    `POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{"ty\r\n`,
  ));
  const answer = await readAll(conn, 1500);
  conn.close();
  assert.match(answer, /^HTTP\/1\.1 408 /, answer);
  // Normal traffic is unaffected.
  const ok = await post(`${b.url}/publish`, {
    type: "agent.status",
    agent_id: "feat-a",
    payload: { status: "working", modified_files: [] },
  });
  assert.equal(ok.status, 202, ok.text);
});

Deno.test("beyond the long-poll cap the broker answers 503 and goes on serving", async () => {
  await using b = await testBroker({ limits: { maxLongPolls: 2 } });
  const ac = new AbortController();
  const polls = [0, 1].map(() =>
    fetch(`${b.url}/messages/feat-a?since=0&wait=30`, { signal: ac.signal })
      .then((r) => r.text()).catch(() => "")
  );
  await waitFor("two polls", () => b.load().longPolls === 2);
  const third = await get(`${b.url}/messages/feat-a?since=0&wait=30`);
  assert.equal(third.status, 503);
  assert.equal(third.json.error, "broker_busy");
  assert.match(third.json.detail, /more than 2 long polls/);
  assert.equal(third.headers.get("retry-after"), "1");
  // Non-waiting traffic is not refused.
  assert.equal((await get(`${b.url}/messages/feat-a?since=0`)).status, 200);
  assert.equal((await get(`${b.url}/status`)).status, 200);
  // A publish wakes the waiting polls; the cap frees up.
  const pub = await post(`${b.url}/publish`, {
    type: "agent.artifact",
    agent_id: "feat-b",
    payload: { status: "done", exports: [], modified_files: [] },
  });
  assert.equal(pub.status, 202, pub.text);
  ac.abort();
  await Promise.all(polls);
  await waitFor("no poll", () => b.load().longPolls === 0);
  const again = await get(`${b.url}/messages/feat-a?since=0&wait=0.05`);
  assert.equal(again.status, 200);
});

Deno.test("beyond the open-request cap the broker answers 503 with a JSON error", async () => {
  await using b = await testBroker({ limits: { maxOpenRequests: 3 } });
  const ac = new AbortController();
  const polls = [0, 1, 2].map(() =>
    fetch(`${b.url}/messages/feat-a?since=0&wait=30`, { signal: ac.signal })
      .then((r) => r.text()).catch(() => "")
  );
  await waitFor("three open", () => b.load().openRequests === 3);
  const r = await get(`${b.url}/status`);
  assert.equal(r.status, 503);
  assert.equal(r.json.error, "broker_busy");
  assert.match(r.json.detail, /more than 3 requests/);
  ac.abort();
  await Promise.all(polls);
  await waitFor("none open", () => b.load().openRequests === 0);
  assert.equal((await get(`${b.url}/status`)).status, 200);
});

Deno.test("a publish body is read the same with a declared length and chunked", async () => {
  await using b = await testBroker();
  const body =
    '{"type":"agent.status","agent_id":"feat-c","payload":{"status":"working"}}';
  const bad = '{"type":';
  const send = async (head: string, data: string) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: b.port });
    await conn.write(enc.encode(
      `POST /publish HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\nconnection: close\r\n${head}\r\n\r\n${data}`,
    ));
    const answer = await readAll(conn, 3000);
    conn.close();
    return answer;
  };
  const chunk = (s: string) =>
    `${enc.encode(s).length.toString(16)}\r\n${s}\r\n0\r\n\r\n`;
  const sized = await send(`content-length: ${body.length}`, body);
  assert.match(sized, /^HTTP\/1\.1 202 /, sized);
  const chunked = await send("transfer-encoding: chunked", chunk(body));
  assert.match(chunked, /^HTTP\/1\.1 202 /, chunked);
  // The same refusal for the same broken JSON either way.
  const refusals = [
    await send(`content-length: ${bad.length}`, bad),
    await send("transfer-encoding: chunked", chunk(bad)),
  ].map((a) => a.slice(a.indexOf("\r\n\r\n") + 4));
  for (const r of refusals) assert.match(r, /invalid message JSON/, r);
  assert.equal(refusals[0], refusals[1]);
  // A body that reads "timeout" is a bad message, not a late one.
  for (const text of ["timeout", '"timeout"']) {
    for (
      const a of [
        await send(`content-length: ${text.length}`, text),
        await send("transfer-encoding: chunked", chunk(text)),
      ]
    ) assert.match(a, /^HTTP\/1\.1 400 /, a);
  }
  // A body of only whitespace is bad JSON either way.
  const blank = [
    await send("content-length: 2", "  "),
    await send("transfer-encoding: chunked", chunk("  ")),
  ].map((a) => a.slice(a.indexOf("\r\n\r\n") + 4));
  for (const r of blank) assert.match(r, /invalid message JSON/, r);
  assert.equal(blank[0], blank[1]);
  const empty = await send("content-length: 0", "");
  assert.match(empty, /^HTTP\/1\.1 400 [\s\S]*must not be empty/, empty);
  const log = await get(`${b.url}/log?since=0`);
  assert.equal(
    log.json.entries.filter((e: { message: { agent_id: string } }) =>
      e.message.agent_id === "feat-c"
    ).length,
    2,
  );
});
