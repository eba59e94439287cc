import assert from "node:assert/strict";
import {
  agentKeyOption,
  BOOT_BLOCK_MAX_BYTES,
  BROKER_AUTH_HEADER,
  renderBootBlock,
  withBrokerAuth,
} from "../../lib/coord/boot_block.ts";
import { parseMessage } from "../../lib/core/messages.ts";

const URL_ = "http://127.0.0.1:41234";

function curlBodies(text: string): unknown[] {
  return [...text.matchAll(/-d '([^']*)'/g)].map((m) => JSON.parse(m[1]));
}

Deno.test("renderBootBlock() starts with the boot heading and names agent and broker", () => {
  const s = renderBootBlock({ agentId: "feat-parser", brokerUrl: URL_ + "/" });
  assert.ok(s.startsWith("## BOOT INSTRUCTIONS - DO NOT REMOVE\n"));
  assert.match(s, /agent `feat-parser`/);
  assert.match(s, /broker is http:\/\/127\.0\.0\.1:41234\./);
  assert.doesNotMatch(s, /\{\{/, "no placeholder left");
  assert.ok(!s.includes(URL_ + "//"), "trailing slash trimmed");
  for (
    const cmd of [
      "git paw publish status working",
      "git paw done",
      "git paw publish blocked",
      "git paw publish question",
      "git paw inbox --wait 60",
    ]
  ) {
    assert.ok(s.includes(cmd), cmd);
  }
  assert.ok(
    s.includes(`curl -s '${URL_}/messages/feat-parser?since=0&wait=60'`),
  );
});

Deno.test("renderBootBlock() curl bodies are valid messages, except the ones with <placeholders>", () => {
  const bodies = curlBodies(
    renderBootBlock({ agentId: "feat-parser", brokerUrl: URL_ }),
  );
  assert.equal(bodies.length, 4);
  const results = bodies.map((b) => parseMessage(b));
  // register and done are ready to run as written
  assert.equal(results[0].ok, true);
  assert.equal(results[1].ok, true);
  if (results[0].ok) {
    assert.equal(results[0].message.type, "agent.status");
    assert.equal(results[0].agentId, "feat-parser");
  }
  // blocked / question carry <...> the agent must replace; the broker refuses them as they stand
  assert.equal(results[2].ok, false);
  assert.equal(results[3].ok, false);
  if (!results[3].ok) {
    assert.equal(
      results[3].error.body.error,
      "field looks like an unfilled placeholder",
    );
  }
});

Deno.test("renderBootBlock() stays within 4 KB for long ids and URLs", () => {
  const s = renderBootBlock({
    agentId: "feat-" + "a".repeat(80),
    brokerUrl: "http://127.0.0.1:65535",
  });
  const bytes = new TextEncoder().encode(s).length;
  assert.ok(bytes <= BOOT_BLOCK_MAX_BYTES, `${bytes} bytes`);
  assert.equal(BOOT_BLOCK_MAX_BYTES, 4096);
});

Deno.test("renderBootBlock() keeps the shell quoting intact for odd ids", () => {
  const s = renderBootBlock({ agentId: "it's", brokerUrl: URL_ });
  assert.ok(s.includes(`"agent_id":"it'\\''s"`));
});

Deno.test("renderBootBlock({ auth: true }) sends the token on every curl and stays within 4 KB", () => {
  const plain = renderBootBlock({
    agentId: "feat-a",
    brokerUrl: "http://10.0.0.5:9119",
  });
  const text = renderBootBlock({
    agentId: "feat-a",
    brokerUrl: "http://10.0.0.5:9119",
    auth: true,
  });
  const curls = text.split("\n").filter((l) => l.trim().startsWith("curl "));
  assert.equal(
    curls.length,
    plain.split("\n").filter((l) => l.trim().startsWith("curl ")).length,
  );
  assert.ok(curls.length >= 5);
  for (const c of curls) assert.ok(c.includes(BROKER_AUTH_HEADER), c);
  assert.ok(!plain.includes("GIT_PAW_BROKER_TOKEN"));
  assert.ok(new TextEncoder().encode(text).length <= BOOT_BLOCK_MAX_BYTES);
});

Deno.test("withBrokerAuth() leaves text without curl recipes alone", () => {
  const text =
    "git paw publish status working\ncurly braces {} and curl-less lines";
  assert.equal(withBrokerAuth(text), text);
});

Deno.test("renderBootBlock({ keyFile }) sends the agent's key file on every curl and stays within 4 KB", () => {
  const keyFile = "/home/someone/projects/" + "p".repeat(60) +
    "/.git/worktrees/" + "w".repeat(60) + "/paw-agent-key";
  const text = renderBootBlock({
    agentId: "feat-" + "a".repeat(80),
    brokerUrl: "http://127.0.0.1:65535",
    auth: true,
    keyFile,
  });
  const curls = text.split("\n").filter((l) => l.trim().startsWith("curl "));
  assert.ok(curls.length >= 5);
  for (const c of curls) {
    assert.ok(c.trim().startsWith(`curl -s ${agentKeyOption(keyFile)} `), c);
  }
  // The key file carries the token: no env variable needed.
  assert.ok(!text.includes("GIT_PAW_BROKER_TOKEN"));
  const bytes = new TextEncoder().encode(text).length;
  assert.ok(bytes <= BOOT_BLOCK_MAX_BYTES, `${bytes} bytes`);
});

Deno.test("agentKeyOption() quotes a path the shell would split", () => {
  assert.equal(agentKeyOption("/a/b/paw-agent-key"), "-K /a/b/paw-agent-key");
  assert.equal(
    agentKeyOption("/my repo/it's/paw-agent-key"),
    `-K '/my repo/it'\\''s/paw-agent-key'`,
  );
});
