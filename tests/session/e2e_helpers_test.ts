import assert from "node:assert/strict";
import { parse as parseToml } from "smol-toml";

const parse = (s: string) => JSON.parse(JSON.stringify(parseToml(s)));
import { makeWorld, withBrokerPort } from "./e2e_helpers.ts";
import { join } from "node:path";

Deno.test("withBrokerPort() adds a [broker] port unless the config sets one", () => {
  assert.deepEqual(parse(withBrokerPort("", 4242)), { broker: { port: 4242 } });
  assert.deepEqual(parse(withBrokerPort("[logging]\nenabled = true\n", 7)), {
    logging: { enabled: true },
    broker: { port: 7 },
  });
  assert.deepEqual(
    parse(withBrokerPort("[broker]\nenabled = true\n[broker.learnings]\n", 7)),
    { broker: { port: 7, enabled: true, learnings: {} } },
  );
  const own = "[broker]\nport = 1234\n";
  assert.equal(withBrokerPort(own, 7), own);
});

Deno.test("makeWorld() gives each world its own broker port, not 9119", async () => {
  await using a = await makeWorld();
  await using b = await makeWorld();
  const portOf = async (root: string) =>
    (parse(
      await Deno.readTextFile(join(root, "config", "git-paw", "config.toml")),
    ) as { broker: { port: number } }).broker.port;
  const pa = await portOf(a.root);
  const pb = await portOf(b.root);
  assert.notEqual(pa, 9119);
  assert.notEqual(pa, pb);
});
