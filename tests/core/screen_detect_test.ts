import assert from "node:assert/strict";
import { detectScreen, waitsForPerson } from "../../lib/core/screen_detect.ts";

function screen(name: string): string {
  return Deno.readTextFileSync(
    new URL(`../../fixtures/screens/${name}.txt`, import.meta.url),
  );
}

Deno.test("detectScreen() reads Claude's permission prompts and the command", () => {
  assert.deepEqual(detectScreen("claude", screen("claude_permission_bash")), {
    kind: "permission",
    detail: "Bash: curl -s http://127.0.0.1:18765/v1/models",
  });
  assert.deepEqual(
    detectScreen("claude", screen("claude_permission_write_in_worktree")),
    { kind: "permission", detail: "Bash: touch nope.txt" },
  );
});

Deno.test("detectScreen() tells Claude's trust dialog, key question and idle prompt apart", () => {
  assert.deepEqual(detectScreen("claude", screen("claude_trust_folder")), {
    kind: "trust",
    detail: "trust folder /tmp/clab/w/proj-feat",
  });
  assert.deepEqual(detectScreen("claude", screen("claude_api_key_confirm")), {
    kind: "question",
    detail: "Do you want to use this API key?",
  });
  for (const idle of ["claude_idle", "claude_prompt_swallowed"]) {
    const s = detectScreen("claude", screen(idle));
    assert.equal(s.kind, "idle", idle);
    assert.ok(!waitsForPerson(s.kind));
  }
  assert.equal(
    detectScreen("claude", "✻ Thinking… (esc to interrupt)\n").kind,
    "working",
  );
  assert.equal(detectScreen("claude", "").kind, "unknown");
});

Deno.test("detectScreen() is not fooled by prompt words in the conversation", () => {
  // The question quoted in the agent's output, without the choices box.
  const text = screen("claude_idle").replace(
    "● All done here.",
    "● I asked: Do you want to proceed?",
  );
  assert.equal(detectScreen("claude", text).kind, "idle");
});

Deno.test("detectScreen() finds a generic prompt for other CLIs", () => {
  assert.deepEqual(
    detectScreen(
      "aider",
      "Run shell command?\n$ make test\nAllow this command? (y/n)\n",
    ),
    { kind: "permission", detail: "make test" },
  );
  assert.equal(detectScreen("aider", screen("claude_idle")).kind, "unknown");
});
