import assert from "node:assert/strict";
import {
  parseAgentKeyFile,
  renderAgentKeyFile,
} from "../../lib/core/agent_key.ts";

const KEY = "k".repeat(22) + "_-AZ09";

Deno.test("renderAgentKeyFile() writes a curl config file (curl -K), no @<path> needed", () => {
  assert.equal(
    renderAgentKeyFile({ key: KEY }),
    `header = "X-Git-Paw-Agent-Key: ${KEY}"\n`,
  );
  assert.equal(
    renderAgentKeyFile({ key: KEY, token: "t0k+/=" }),
    `header = "X-Git-Paw-Agent-Key: ${KEY}"\nheader = "Authorization: Bearer t0k+/="\n`,
  );
});

Deno.test("parseAgentKeyFile() reads what render writes, and the bare header lines of the first format", () => {
  for (const f of [{ key: KEY }, { key: KEY, token: "t0k+/=" }]) {
    assert.deepEqual(parseAgentKeyFile(renderAgentKeyFile(f)), f);
  }
  assert.deepEqual(
    parseAgentKeyFile(
      `X-Git-Paw-Agent-Key: ${KEY}\r\nAuthorization: Bearer abc\n`,
    ),
    { key: KEY, token: "abc" },
  );
  assert.equal(
    parseAgentKeyFile('header = "X-Git-Paw-Agent-Key: short"'),
    null,
  );
  assert.equal(parseAgentKeyFile(""), null);
});
