import assert from "node:assert/strict";
import { cliProfileOf } from "../../lib/core/agent_plan.ts";
import { join } from "node:path";
import {
  gitIdentityEnv,
  loadPaneEnv,
  userPaneEnv,
} from "../../lib/session/pane_env.ts";

Deno.test("userPaneEnv() keeps credentials and config dirs, drops tmux's, the terminal's, git's per-command and git-paw's per-pane variables", () => {
  const got = userPaneEnv({
    ANTHROPIC_API_KEY: "k",
    HTTPS_PROXY: "http://p",
    CODEX_HOME: "/c",
    TMUX: "/tmp/x",
    TMUX_PANE: "%1",
    TERM: "xterm",
    GIT_DIR: "/elsewhere/.git",
    GIT_PAW_BROKER_TOKEN: "old",
    GIT_PAW_AGENT_ID: "old",
    GIT_PAW_SELF: "[]",
  });
  assert.deepEqual(got, {
    ANTHROPIC_API_KEY: "k",
    HTTPS_PROXY: "http://p",
    CODEX_HOME: "/c",
    GIT_PAW_SELF: "[]",
  });
});

Deno.test("loadPaneEnv() sets the file's variables, skips tmux's own, and drops GIT_PAW_ENV_FILE", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-paneenv-" });
  const key = `PAW_PANE_ENV_TEST_${crypto.randomUUID().slice(0, 8)}`;
  try {
    const file = join(dir, "e.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        version: 1,
        env: { [key]: "yes", GIT_PAW_BROKER_TOKEN: "t", TMUX_PANE: "%9" },
      }),
    );
    const pane = Deno.env.get("TMUX_PANE");
    Deno.env.set("GIT_PAW_ENV_FILE", file);
    assert.equal(await loadPaneEnv(), 2);
    assert.equal(Deno.env.get(key), "yes");
    assert.equal(Deno.env.get("GIT_PAW_BROKER_TOKEN"), "t");
    assert.equal(Deno.env.get("TMUX_PANE"), pane);
    assert.equal(Deno.env.get("GIT_PAW_ENV_FILE"), undefined);
    assert.equal(await loadPaneEnv(join(dir, "missing.json")), 0);
  } finally {
    Deno.env.delete(key);
    Deno.env.delete("GIT_PAW_BROKER_TOKEN");
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("gitIdentityEnv() gives only gemini the user's identity and hooks dir, never overriding what the env sets", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-ident-" });
  try {
    const git = (...args: string[]) =>
      new Deno.Command("git", { args, cwd: dir, stdout: "null" }).output();
    await git("init", "-q");
    await git("config", "user.name", "Ann O'Dev");
    await git("config", "user.email", "ann@dev.invalid");
    assert.deepEqual(
      await gitIdentityEnv(cliProfileOf("claude"), dir, "/h", {}),
      {},
    );
    assert.equal(
      Object.keys(
        await gitIdentityEnv(
          cliProfileOf("mine", "/opt/gemini"),
          dir,
          null,
          {},
        ),
      ).length,
      4,
      "a custom name running gemini counts as gemini",
    );
    assert.deepEqual(
      await gitIdentityEnv(cliProfileOf("gemini"), dir, "/r/.git/hooks", {}),
      {
        GIT_AUTHOR_NAME: "Ann O'Dev",
        GIT_COMMITTER_NAME: "Ann O'Dev",
        GIT_AUTHOR_EMAIL: "ann@dev.invalid",
        GIT_COMMITTER_EMAIL: "ann@dev.invalid",
        GIT_CONFIG_PARAMETERS: "'core.hooksPath'='/r/.git/hooks'",
      },
    );
    const kept = await gitIdentityEnv(cliProfileOf("gemini"), dir, "/h", {
      GIT_AUTHOR_NAME: "Env Name",
      GIT_CONFIG_PARAMETERS: "'x.y'='1'",
    });
    assert.equal(kept.GIT_AUTHOR_NAME, undefined);
    assert.equal(kept.GIT_CONFIG_PARAMETERS, "'x.y'='1' 'core.hooksPath'='/h'");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
