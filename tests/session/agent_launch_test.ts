import assert from "node:assert/strict";
import { agentLaunch } from "../../lib/session/common.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import { resolveCli } from "../../lib/session/clis.ts";

const config = defaultConfig();
const w = (cli: string) => ({
  branch: "feat/a",
  worktree_path: "/wt/a",
  cli,
});

Deno.test("agentLaunch() puts claude's prompt after -- behind a variadic user option", () => {
  const cli = 'claude --allowedTools "Bash(git paw:*)"';
  const a = agentLaunch(w(cli), config, "BOOT", () => ({
    argv: ["/bin/claude", "--allowedTools", "Bash(git paw:*)"],
  }));
  assert.deepEqual(a.cliArgv, [
    "/bin/claude",
    "--allowedTools",
    "Bash(git paw:*)",
    "--",
    "BOOT",
  ]);
  assert.equal(a.typePrompt, undefined);
});

Deno.test("agentLaunch() resolves --cli words through resolveCli and keeps them before --", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/claude`, "#!/bin/sh\n");
    await Deno.chmod(`${dir}/claude`, 0o755);
    const env = (k: string) => k === "PATH" ? dir : undefined;
    const cli = 'claude --allowedTools "Bash(git paw:*)"';
    const a = agentLaunch(
      w(cli),
      config,
      "BOOT",
      (name) => resolveCli(name, config, { env, systemDirs: [] }),
    );
    assert.deepEqual(a.cliArgv, [
      `${dir}/claude`,
      "--allowedTools",
      "Bash(git paw:*)",
      "--",
      "BOOT",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("agentLaunch() on recovery resumes where the profile can, else sends the boot prompt", () => {
  const claude = agentLaunch(
    w("claude"),
    config,
    { resume: true, bootPrompt: "BOOT" },
    () => ({ argv: ["/bin/claude"] }),
  );
  assert.equal(claude.cliArgv[1], "--continue");
  assert.equal(claude.cliArgv[2], "--");
  assert.match(claude.cliArgv[3]!, /restarted/);
  assert.match(claude.cliArgv[3]!, /AGENTS\.md/);
  const aider = agentLaunch(
    w("aider"),
    config,
    { resume: true, bootPrompt: "BOOT" },
    () => ({ argv: ["/bin/aider"] }),
  );
  assert.deepEqual(aider.cliArgv, ["/bin/aider"]);
  assert.equal(aider.typePrompt, "BOOT");
});

Deno.test("agentLaunch() gives codex the helper as an absolute command", () => {
  const a = agentLaunch(
    w("codex"),
    config,
    "run git paw publish status working",
    () => ({ argv: ["/bin/codex"] }),
  );
  assert.doesNotMatch(a.cliArgv.at(-1)!, /\bgit paw publish/);
  assert.match(a.cliArgv.at(-1)!, / publish status working$/);
});
