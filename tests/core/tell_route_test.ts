import assert from "node:assert/strict";
import { detectScreen } from "../../lib/core/screen_detect.ts";
import {
  type TellContext,
  tellRoute,
  tellText,
} from "../../lib/core/tell_route.ts";

function screen(name: string): string {
  return Deno.readTextFileSync(
    new URL(`../../fixtures/screens/${name}.txt`, import.meta.url),
  );
}

function ctx(cli: string, name: string, more: Partial<TellContext> = {}) {
  return {
    forceQueue: false,
    pane: "%3",
    screen: detectScreen(cli, screen(name)),
    status: "idle",
    pendingApproval: false,
    ...more,
  };
}

Deno.test("tellRoute() types into a CLI idle at its input prompt (real screens)", () => {
  for (
    const [cli, name] of [
      ["claude", "claude_idle"],
      ["codex", "codex_idle_after_turn"],
      ["codex", "codex_idle_fresh"],
      ["gemini", "gemini_idle"],
    ]
  ) {
    assert.deepEqual(tellRoute(ctx(cli!, name!)), { route: "keys" }, name);
  }
});

Deno.test("tellRoute() never types at a permission prompt, a trust dialog, a question or mid-turn", () => {
  const cases: Array<[string, string, RegExp]> = [
    ["claude", "claude_permission_bash", /permission prompt \(Bash: curl/],
    ["codex", "codex_permission_prompt", /permission prompt/],
    ["gemini", "gemini_permission_shell", /permission prompt/],
    ["claude", "claude_trust_folder", /trust dialog/],
    ["codex", "codex_trust_dialog", /trust dialog/],
    ["gemini", "gemini_trust_dialog", /trust dialog/],
    ["claude", "claude_api_key_confirm", /asks a question/],
    [
      "claude",
      "claude_auto_mode_offer",
      /asks a question \(Make auto mode your default permission mode\?\)/,
    ],
    ["gemini", "gemini_busy", /middle of a turn/],
  ];
  for (const [cli, name, why] of cases) {
    const r = tellRoute(ctx(cli, name));
    assert.equal(r.route, "feedback", name);
    assert.match(r.route === "feedback" ? r.why : "", why, name);
  }
});

Deno.test("tellRoute() queues when an approval waits, the status says needs_input off the idle prompt, there is no pane, or --queue", () => {
  const idle = { kind: "idle" as const, detail: "" };
  const base: TellContext = {
    forceQueue: false,
    pane: "%1",
    screen: idle,
    status: "idle",
    pendingApproval: false,
  };
  assert.deepEqual(tellRoute(base), { route: "keys" });
  assert.equal(tellRoute({ ...base, pendingApproval: true }).route, "feedback");
  // needs_input on the roster: only the idle prompt on screen overrides it.
  assert.deepEqual(tellRoute({ ...base, status: "needs_input" }), {
    route: "keys",
  });
  for (const kind of ["unknown", "working", "permission"] as const) {
    assert.equal(
      tellRoute({
        ...base,
        status: "needs_input",
        screen: { kind, detail: "" },
      })
        .route,
      "feedback",
    );
  }
  assert.equal(
    tellRoute({ ...base, status: "needs_input", screen: null }).route,
    "feedback",
  );
  assert.deepEqual(tellRoute({ ...base, pane: null }), {
    route: "feedback",
    why: "the agent has no pane",
  });
  assert.deepEqual(tellRoute({ ...base, forceQueue: true }), {
    route: "feedback",
    why: "--queue",
  });
  assert.equal(tellRoute({ ...base, screen: null }).route, "feedback");
  assert.equal(
    tellRoute({ ...base, screen: { kind: "unknown", detail: "" } }).route,
    "feedback",
  );
});

Deno.test("detectScreen() reads the demo agent: idle on its idle line, working otherwise", () => {
  const idle = '[demo] committed 1234abcd "x"\n' +
    "[demo] idle: type a task and press Enter ('exit' to quit)\n\n\n";
  assert.equal(detectScreen("demo", idle).kind, "idle");
  assert.equal(
    detectScreen("demo", idle + "[demo] working on: y\n").kind,
    "working",
  );
  // What it notes meanwhile does not change its state.
  assert.equal(
    detectScreen(
      "demo",
      idle +
        "[demo] <- agent.artifact from b: x\n[demo] noted agent.artifact from b\n",
    ).kind,
    "idle",
  );
  assert.equal(
    detectScreen(
      "demo",
      idle + "[demo] asked: which port? (waiting for an answer)\n",
    ).kind,
    "working",
  );
  assert.equal(detectScreen("demo", idle + "[demo] bye\n$ \n").kind, "unknown");
  assert.equal(detectScreen("demo", "$ \n").kind, "unknown");
});

Deno.test("tellText() makes one line without control characters", () => {
  assert.equal(tellText("fix\nthe\ttests\x1b[2J now"), "fix the tests [2J now");
  assert.equal(tellText("a".repeat(10), 5), "aaaa…");
  assert.equal(tellText(" \n "), "");
});
