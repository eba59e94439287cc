import assert from "node:assert/strict";
import { agentLaunch, receiptAgent } from "../../lib/session/common.ts";
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
  const a = agentLaunch(
    receiptAgent(w(cli), () => ({
      argv: ["/bin/claude", "--allowedTools", "Bash(git paw:*)"],
    })),
    "BOOT",
  );
  assert.deepEqual(a.argv, [
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
      receiptAgent(
        w(cli),
        (name) => resolveCli(name, config, { env, systemDirs: [] }),
      ),
      "BOOT",
    );
    assert.deepEqual(a.argv, [
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
    receiptAgent(w("claude"), () => ({ argv: ["/bin/claude"] })),
    { resume: true, bootPrompt: "BOOT" },
  );
  assert.equal(claude.argv[1], "--continue");
  assert.equal(claude.argv[2], "--");
  assert.match(claude.argv[3]!, /restarted/);
  assert.match(claude.argv[3]!, /AGENTS\.md/);
  const aider = agentLaunch(
    receiptAgent(w("aider"), () => ({ argv: ["/bin/aider"] })),
    { resume: true, bootPrompt: "BOOT" },
  );
  assert.deepEqual(aider.argv, ["/bin/aider"]);
  assert.equal(aider.typePrompt, "BOOT");
});

Deno.test("agentLaunch() gives codex the helper as an absolute command", () => {
  const a = agentLaunch(
    receiptAgent(w("codex"), () => ({ argv: ["/bin/codex"] })),
    "run git paw publish status working",
  );
  assert.doesNotMatch(a.argv.at(-1)!, /\bgit paw publish/);
  assert.match(a.argv.at(-1)!, / publish status working$/);
});
