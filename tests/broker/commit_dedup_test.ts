/**
 * One committed artifact per agent and commit: the post-commit hook and the
 * worktree watcher both report a commit, and the broker keeps the first.
 */
import assert from "node:assert/strict";
import {
  createBrokerState,
  publish,
  storedCommitSeq,
} from "../../lib/core/broker_state.ts";
import { type BrokerMessage, parseMessage } from "../../lib/core/messages.ts";
import { post, tempDir, testBroker } from "../_helpers/broker.ts";

const SHA = "0123456789abcdef0123456789abcdef01234567";

function msg(input: unknown): BrokerMessage {
  const r = parseMessage(input);
  if (!r.ok) throw new Error(r.error.body.error);
  return r.message;
}

function committed(agent: string, commit?: string, status = "committed") {
  return {
    type: "agent.artifact",
    agent_id: agent,
    payload: {
      status,
      exports: [],
      modified_files: ["a.ts"],
      ...(commit === undefined ? {} : { commit }),
    },
  };
}

Deno.test("parseMessage() keeps an artifact's commit id and refuses a malformed one", () => {
  const m = msg(committed("feat-a", SHA));
  assert.equal(m.type === "agent.artifact" && m.payload.commit, SHA);
  const old = msg(committed("feat-a"));
  assert.equal(old.type, "agent.artifact");
  assert.ok(!("commit" in old.payload), "no commit key when none was sent");
  assert.equal(parseMessage(committed("feat-a", "HEAD")).ok, false);
});

Deno.test("storedCommitSeq() knows a commit per agent, and never one without a commit id", () => {
  const s = createBrokerState();
  assert.equal(storedCommitSeq(s, msg(committed("feat-a", SHA))), null);
  publish(s, msg(committed("feat-a", SHA)), 0);
  publish(s, msg(committed("feat-a")), 0);
  assert.equal(storedCommitSeq(s, msg(committed("feat-a", SHA))), 1);
  // The same branch name spelled as sent (slugified like every agent id).
  assert.equal(storedCommitSeq(s, msg(committed("feat/a", SHA))), 1);
  assert.equal(storedCommitSeq(s, msg(committed("feat-b", SHA))), null);
  assert.equal(storedCommitSeq(s, msg(committed("feat-a"))), null);
  assert.equal(
    storedCommitSeq(s, msg(committed("feat-a", SHA, "done"))),
    null,
    "only committed artifacts are de-duplicated",
  );
});

Deno.test("startBroker() drops a commit reported twice, also after a restart, and keeps artifacts without a commit id", async () => {
  await using dir = await tempDir();
  const artifacts = async (b: { logSince(n: number): Promise<unknown[]> }) =>
    (await b.logSince(0)).filter((e) =>
      (e as { message: BrokerMessage }).message.type === "agent.artifact"
    ).length;
  {
    await using b = await testBroker({ dataDir: dir.path });
    const first = await b.publish(committed("feat-a", SHA));
    assert.ok(first.ok);
    const again = await b.publish(committed("feat-a", SHA));
    assert.deepEqual(again, first, "answered with the stored seq");
    const res = await post(`${b.url}/publish`, committed("feat-a", SHA));
    assert.equal(res.status, 202, "a hook posting second sees success");
    await b.publish(committed("feat-a"));
    await b.publish(committed("feat-a"));
    await b.publish(committed("feat-b", SHA));
    assert.equal(await artifacts(b), 4);
  }
  await using b = await testBroker({ dataDir: dir.path });
  await b.publish(committed("feat-a", SHA));
  await post(`${b.url}/publish`, committed("feat-b", SHA));
  assert.equal(await artifacts(b), 4, "restart remembers stored commits");
  await b.publish(committed("feat-a", SHA.replace("0", "f")));
  assert.equal(await artifacts(b), 5);
});

Deno.test("startBroker() stores a message whose (sender, msg_id) it holds only once, also after a restart", async () => {
  await using dir = await tempDir();
  const status = (agent: string, msgId?: string) => ({
    type: "agent.status",
    agent_id: agent,
    payload: { status: "working" },
    ...(msgId === undefined ? {} : { msg_id: msgId }),
  });
  const count = async (b: { logSince(n: number): Promise<unknown[]> }) =>
    (await b.logSince(0)).length;
  {
    await using b = await testBroker({ dataDir: dir.path });
    const first = await b.publish(status("feat-a", "m-1"));
    assert.ok(first.ok);
    assert.deepEqual(await b.publish(status("feat-a", "m-1")), first);
    const res = await post(`${b.url}/publish`, status("feat-a", "m-1"));
    assert.equal(res.status, 202, "a second delivery sees success");
    await b.publish(status("feat-b", "m-1")); // another sender
    await b.publish(status("feat-a")); // no id: never de-duplicated
    await b.publish(status("feat-a"));
    assert.equal(await count(b), 4);
    const [e] = await b.logSince(0, 1);
    assert.equal((e!.message as { msg_id?: string }).msg_id, "m-1");
  }
  await using b = await testBroker({ dataDir: dir.path });
  await post(`${b.url}/publish`, status("feat-a", "m-1"));
  assert.equal(await count(b), 4, "restart remembers recent ids");
  const bad = await post(`${b.url}/publish`, status("feat-a", "no spaces"));
  assert.equal(bad.status, 400);
});
