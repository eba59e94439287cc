import assert from "node:assert/strict";
import {
  detectScreen,
  emptyScreenTrack,
  promptDetail,
  type ScreenState,
  stepScreen,
  waitsForPerson,
} from "../../lib/core/screen_detect.ts";

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

Deno.test("detectScreen() reads Codex's real screens", () => {
  const codex = (name: string) =>
    detectScreen("codex", screen(`codex_${name}`));
  assert.deepEqual(codex("permission_prompt"), {
    kind: "permission",
    detail: "Bash: touch /etc/escal-test-file",
  });
  assert.deepEqual(codex("trust_dialog"), {
    kind: "trust",
    detail: "trust folder /tmp/cx/untrusted",
  });
  assert.deepEqual(codex("hooks_review"), {
    kind: "question",
    detail: "Hooks need review",
  });
  assert.equal(codex("model_upgrade").kind, "question");
  assert.equal(codex("daemon_incompatible").kind, "question");
  assert.equal(codex("conversation_locked").kind, "question");
  assert.equal(codex("idle_after_turn").kind, "idle");
  assert.equal(codex("idle_fresh").kind, "idle");
  assert.equal(codex("reconnecting").kind, "working");
});

Deno.test("detectScreen() reads Gemini's real screens; the lowest dialog is the one asking", () => {
  const gemini = (name: string) =>
    detectScreen("gemini", screen(`gemini_${name}`));
  assert.deepEqual(gemini("permission_shell"), {
    kind: "permission",
    detail: "Shell: touch touched-here",
  });
  assert.deepEqual(gemini("trust_dialog"), {
    kind: "trust",
    detail: "trust folder repo-wt3",
  });
  assert.equal(gemini("trust_dialog_over_first_prompt").kind, "trust");
  assert.equal(gemini("trust_restarting").kind, "working");
  assert.equal(gemini("auth_dialog").kind, "question");
  assert.equal(gemini("idle").kind, "idle");
  assert.equal(gemini("busy").kind, "working");
});

Deno.test("detectScreen() finds no prompt on any idle or busy screen", () => {
  for (
    const [cli, name] of [
      ["claude", "claude_idle"],
      ["codex", "codex_idle_after_turn"],
      ["codex", "codex_reconnecting"],
      ["gemini", "gemini_idle"],
      ["gemini", "gemini_busy"],
    ]
  ) {
    assert.ok(!waitsForPerson(detectScreen(cli!, screen(name!)).kind), name);
  }
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

Deno.test("stepScreen() publishes on change only and withdraws its own prompt report", async (t) => {
  const perm = detectScreen("claude", screen("claude_permission_bash"));
  const idle = detectScreen("claude", screen("claude_idle"));
  const busy = detectScreen("claude", "✻ Working… (esc to interrupt)\n");
  let track = emptyScreenTrack();
  const step = (
    s: ScreenState,
    brokerStatus: string | null,
    pending: string | null = null,
  ) => {
    const r = stepScreen(track, s, { brokerStatus, pending });
    track = r.track;
    return r.publish;
  };
  await t.step(
    "a prompt before any publish: needs_input with the command",
    () => {
      assert.deepEqual(step(perm, null), {
        status: "needs_input",
        message: "Bash: curl -s http://127.0.0.1:18765/v1/models",
      });
    },
  );
  await t.step("the same prompt again: nothing", () => {
    assert.equal(step(perm, "needs_input"), null);
  });
  await t.step(
    "gone once: nothing yet; twice: working, even if a file report moved the broker on",
    () => {
      assert.equal(step(busy, "working"), null);
      assert.deepEqual(step(busy, "working"), {
        status: "working",
        message: "answered: Bash: curl -s http://127.0.0.1:18765/v1/models",
      });
      assert.equal(step(busy, "working"), null, "no flapping");
    },
  );
  await t.step(
    "a hook's needs_input: left alone while the prompt shows",
    () => {
      assert.equal(step(perm, "needs_input"), null);
    },
  );
  await t.step(
    "a hook's prompt denied (no hook follows): idle once the screen is idle",
    () => {
      assert.equal(step(idle, "needs_input"), null);
      assert.deepEqual(step(idle, "needs_input"), {
        status: "idle",
        message: "prompt answered",
      });
    },
  );
  await t.step(
    "an unreadable screen never clears someone else's needs_input",
    () => {
      track = emptyScreenTrack();
      const unknown = detectScreen("claude", "something else\n");
      for (let i = 0; i < 5; i++) {
        assert.equal(
          step(unknown, "needs_input"),
          null,
        );
      }
    },
  );
});

Deno.test("promptDetail() prefers the hooks' pending call when it is the one on screen", () => {
  const perm = {
    kind: "permission" as const,
    detail:
      "Bash: npm run build -- --watch=false --mode production --verbose --x…",
  };
  const full =
    "Bash: npm run build -- --watch=false --mode production --verbose --x --y";
  assert.equal(promptDetail(perm, full), full);
  assert.equal(promptDetail(perm, "Bash: rm -rf /"), perm.detail);
  assert.equal(
    promptDetail({ kind: "permission", detail: "Bash command" }, "Bash: ls"),
    "Bash: ls",
  );
  assert.equal(
    promptDetail({ kind: "trust", detail: "trust folder /x" }, "Bash: ls"),
    "trust folder /x",
  );
});

Deno.test("stepScreen() stays quiet when a hook already ended the turn", () => {
  const perm = detectScreen("claude", screen("claude_permission_bash"));
  const idle = detectScreen("claude", screen("claude_idle"));
  let track = stepScreen(emptyScreenTrack(), perm, {
    brokerStatus: null,
    pending: null,
  }).track;
  for (let i = 0; i < 3; i++) {
    const r = stepScreen(track, idle, { brokerStatus: "idle", pending: null });
    assert.equal(r.publish, null);
    track = r.track;
  }
  assert.equal(track.published, null);
});
