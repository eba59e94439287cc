import assert from "node:assert/strict";
import { mergeJson, unmergeJson } from "../../lib/core/json_merge.ts";
import type { Json } from "../../lib/core/cli_profiles.ts";

const ours: Json = {
  permissions: { allow: ["Bash(git paw:*)"] },
  hooks: { Stop: [{ hooks: [{ type: "command", command: "x" }] }] },
};

Deno.test("mergeJson() adds our entries and keeps every user value", () => {
  const user: Json = {
    permissions: { allow: ["Bash(ls:*)"], defaultMode: "plan" },
    hooks: { Stop: [{ hooks: [{ type: "command", command: "mine" }] }] },
    model: "x",
  };
  const r = mergeJson(user, ours);
  assert.deepEqual(r.value, {
    permissions: {
      allow: ["Bash(ls:*)", "Bash(git paw:*)"],
      defaultMode: "plan",
    },
    hooks: {
      Stop: [
        { hooks: [{ type: "command", command: "mine" }] },
        { hooks: [{ type: "command", command: "x" }] },
      ],
    },
    model: "x",
  });
  assert.deepEqual(unmergeJson(r.value, r.patch!), user);
});

Deno.test("mergeJson() never replaces a user scalar and skips items present", () => {
  const user: Json = { a: 1, list: ["k"] };
  const r = mergeJson(user, { a: 2, list: ["k"] });
  assert.deepEqual(r.value, user);
  assert.equal(r.patch, null);
});

Deno.test("unmergeJson() of a created value removes it, keeping later user keys", () => {
  const r = mergeJson(undefined, ours);
  assert.equal(unmergeJson(r.value, r.patch!), undefined);
  const edited = structuredClone(r.value) as Record<string, Json>;
  (edited.permissions as Record<string, Json>).deny = ["Bash(rm:*)"];
  assert.deepEqual(unmergeJson(edited, r.patch!), {
    permissions: { deny: ["Bash(rm:*)"] },
  });
});

Deno.test("unmergeJson() keeps a user's own copy of an item they added twice", () => {
  const user: Json = { allow: ["a"] };
  const r = mergeJson(user, { allow: ["b"] });
  const now = { allow: ["a", "b", "c"] };
  assert.deepEqual(unmergeJson(now, r.patch!), { allow: ["a", "c"] });
});
