import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { configTemplate } from "../../lib/session/init.ts";
import { mergeConfig, validateConfig } from "../../lib/core/config.ts";

Deno.test("configTemplate() documents [integration] with keys the schema accepts", () => {
  const lines = configTemplate().split("\n");
  const at = lines.findIndex((l) => l.startsWith("# [integration]"));
  assert.ok(at >= 0, "the template has an [integration] block");
  const block: string[] = [];
  for (const l of lines.slice(at)) {
    if (l.trim() === "") break;
    block.push(l.replace(/^# /, "").replace(/\s+# .*$/, ""));
  }
  const raw = parse(block.join("\n"));
  const v = validateConfig(raw, "template");
  assert.ok(v.ok, JSON.stringify(v));
  const c = mergeConfig({}, v.ok ? v.value : {});
  assert.deepEqual(c.integration, {
    enabled: true,
    test_command: ["deno", "task", "test"],
    timeout_seconds: 600,
  });
});
