/**
 * Supervisor mode with the real Claude Code as the supervisor (against the
 * mock Anthropic API) and a `demo` agent: `start --supervisor` with
 * `[supervisor] cli = "claude"` runs Claude in the repo root; its context
 * holds the supervisor's section of AGENTS.md (through the CLAUDE.md import
 * setup wrote into the repo root); its `git paw publish status` lands on the
 * broker as `supervisor` (identity from its pane) without a permission
 * prompt; its `git paw inbox` shows the `verify-now` nudge for the agent's
 * commit, which git-paw's gate has verified. `purge` leaves the repo root
 * as it was. Facts: docs/clis/claude.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiCliBinDir } from "../_helpers/ai_clis.ts";
import { seedClaudeHome } from "../_helpers/ai_cli_claude.ts";
import { pawArgv, shellLine } from "../_helpers/paw_command.ts";
import { startMockModel } from "../fixtures/mock_model/server.ts";
import { claudeProvider } from "../fixtures/mock_model/claude.ts";
import {
  capture,
  makeWorld,
  panes,
  statusJson,
  waitFor,
} from "../session/e2e_helpers.ts";

type Entry = {
  message: {
    type: string;
    agent_id?: string;
    payload?: { status?: string; message?: string; phase?: string };
  };
};

Deno.test({
  name:
    "claude as the supervisor: reads its AGENTS.md section, publishes as supervisor unasked, sees the verify-now nudge of a gated commit",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await using w = await makeWorld();
    const mock = startMockModel({
      steps: [{
        id: "online",
        when: "You are the git-paw supervisor",
        reply: {
          text: "Going online.",
          tools: [{
            name: "Bash",
            input: {
              command:
                'git paw publish status working --message "supervisor online" --phase baseline',
              description: "say I am online",
            },
          }],
        },
      }, {
        id: "inbox",
        when: "published agent.status as supervisor",
        reply: {
          text: "Reading my inbox.",
          tools: [{
            name: "Bash",
            input: {
              command: "git paw inbox --wait 20",
              description: "read the inbox",
            },
          }],
        },
      }, {
        id: "seen",
        when: "verify-now",
        reply: { text: "SUPERVISOR-SAW-NUDGE-7q" },
      }],
      fallback: { text: "ok" },
    }, { providers: [claudeProvider] });
    await using _m = { [Symbol.asyncDispose]: () => mock.close() };
    const env = await seedClaudeHome({
      home: join(w.root, "home"),
      baseUrl: mock.url,
      trusted: [w.repo],
      tmpDir: join(w.root, "ct"),
      userSettings: { permissions: { defaultMode: "default" } },
    });
    const bin = join(w.root, "bin");
    await Deno.mkdir(bin);
    await Deno.writeTextFile(
      join(bin, "git-paw"),
      `#!/bin/sh\nexec ${shellLine(pawArgv([]))} "$@"\n`,
    );
    await Deno.chmod(join(bin, "git-paw"), 0o755);
    Object.assign(w.env, env, {
      PATH: `${bin}:${await aiCliBinDir()}:${w.env.PATH ?? "/usr/bin:/bin"}`,
    });
    await Deno.writeTextFile(join(w.repo, "check.sh"), "#!/bin/sh\necho ok\n");
    assert.equal((await w.git(["add", "check.sh"])).code, 0);
    assert.equal((await w.git(["commit", "-qm", "check"])).code, 0);
    await w.writeConfig(
      '[supervisor]\ncli = "claude"\ntest_command = "sh check.sh"\n',
    );

    const r = await w.paw([
      "start",
      "--supervisor",
      "--cli",
      "demo",
      "--branches",
      "feat-a",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const st = await statusJson(w);
    const url = st.broker_url!;
    const sup = (await panes(w, st.session!)).find((p) =>
      p.role === "supervisor"
    )!;
    assert.ok(sup, "a supervisor pane");
    const log = async (): Promise<Entry[]> =>
      ((await (await fetch(`${url}/log?since=0`)).json()) as {
        entries: Entry[];
      }).entries;
    const fail = async (what: string, e: unknown) => {
      throw new Error(
        `${what}: ${(e as Error).message}\n--- supervisor pane\n${await capture(
          w,
          sup.id,
        )}\n--- requests\n${
          mock.requests().map((q) => `${q.step}: ${q.turn.slice(0, 200)}`)
            .join("\n")
        }`,
      );
    };

    // The supervisor's status arrives under its own id, asked by nobody.
    await waitFor(
      "the supervisor online on the broker",
      async () =>
        (await log()).some((e) =>
          e.message.type === "agent.status" &&
          e.message.agent_id === "supervisor" &&
          e.message.payload?.message === "supervisor online" &&
          e.message.payload?.phase === "baseline"
        ),
      120_000,
    ).catch((e) => fail("online", e));
    const first = mock.requests().find((q) => q.step === "online")!;
    const body = JSON.stringify(first.body);
    assert.ok(body.includes("## git-paw Supervisor"), "AGENTS.md section");
    assert.ok(body.includes("git paw approve ID"));
    assert.ok(body.includes("`feat-a` — branch `feat-a`, CLI demo"));
    assert.doesNotMatch(await capture(w, sup.id), /Do you want to proceed\?/);

    // The agent's commit was gated by git-paw, and the nudge reached the
    // supervisor's model through `git paw inbox`.
    await waitFor(
      "the gate's verdict",
      async () =>
        (await log()).some((e) =>
          e.message.type === "agent.verified" && e.message.agent_id === "feat-a"
        ),
      120_000,
    ).catch((e) => fail("verified", e));
    await waitFor(
      "the model saw verify-now",
      () => mock.requests().some((q) => q.step === "seen"),
      120_000,
    ).catch((e) => fail("nudge", e));
    const seen = mock.requests().find((q) => q.step === "seen")!;
    assert.match(seen.turn, /\[feat-a\] verify-now/);

    const purge = await w.paw(["purge", "--force"]);
    assert.equal(purge.code, 0, purge.stderr);
    for (const f of ["AGENTS.md", "CLAUDE.md", ".mcp.json", ".claude"]) {
      assert.equal(
        await Deno.stat(join(w.repo, f)).then(() => true, () => false),
        false,
        `${f} left in the repo root`,
      );
    }
    assert.equal((await w.git(["status", "--porcelain"])).stdout, "");
  },
});
