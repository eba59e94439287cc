import assert from "node:assert/strict";
import {
  brokerClient,
  BrokerReplyError,
  BrokerUnreachableError,
  describeProbe,
  replyText,
  tokenFromEnv,
} from "../../lib/broker/client.ts";
import { artifactMsg, statusMsg, testBroker } from "../_helpers/broker.ts";

Deno.test("brokerClient() publishes, long-polls, watches and reads /status with the token", async () => {
  await using b = await testBroker({ token: "tok" });
  const c = brokerClient(`${b.url}/`, { token: "tok" });
  assert.equal(c.url, b.url);
  assert.equal((await c.publish(statusMsg("feat-b"))).status, 202);
  const waiting = c.poll("feat/b", { since: 1, wait: 5 });
  const pub = await c.publish(artifactMsg("feat-a", "committed"));
  assert.equal(pub.ok, true);
  const page = await waiting;
  assert.equal(page.last_seq, 2);
  assert.equal(page.messages[0]!.type, "agent.artifact");
  const watch = await c.watch({ agent_id: "feat-w", worktree_path: "/w" });
  assert.equal(watch.status, 202);
  assert.deepEqual(b.watchTargets().map((t) => t.agent_id), ["feat-w"]);
  const log = await c.log({ since: 1, limit: 5 });
  assert.deepEqual(log.entries.map((e) => e.seq), [2]);
  assert.equal(log.last_seq, 2);
  const st = await c.status();
  assert.equal((st.json as { session: string }).session, "test");
  // Without the token: the broker's refusal comes back as a reply.
  const anon = await brokerClient(b.url).status();
  assert.equal(anon.status, 401);
  assert.match(replyText(anon), /^missing or wrong bearer token \(send/);
  await assert.rejects(
    brokerClient(b.url).poll("feat-b", { since: 0 }),
    (e: unknown) => e instanceof BrokerReplyError && e.reply.status === 401,
  );
});

Deno.test("brokerClient() says unreachable, and timed out when the timeout ran out", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  // A listener that never answers: the timeout runs out.
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of l) conns.push(conn);
  })();
  await assert.rejects(
    brokerClient(`http://127.0.0.1:${port}`).status({ timeoutMs: 100 }),
    (e: unknown) => e instanceof BrokerUnreachableError && e.timedOut,
  );
  l.close();
  for (const c of conns) c.close();
  await accepting.catch(() => {});
  // Nothing listens any more: refused, not timed out.
  await assert.rejects(
    brokerClient(`http://127.0.0.1:${port}`).publish({}),
    (e: unknown) => e instanceof BrokerUnreachableError && !e.timedOut,
  );
});

Deno.test("describeProbe() words every probe result once", () => {
  assert.equal(
    describeProbe("other-session"),
    "another git-paw session's broker",
  );
  assert.equal(describeProbe("foreign"), "another program");
  assert.equal(describeProbe("timeout"), "a process that does not answer");
  assert.equal(describeProbe("ours"), "this session's broker");
  assert.equal(tokenFromEnv(() => ""), undefined);
  assert.equal(tokenFromEnv(() => "t"), "t");
});
