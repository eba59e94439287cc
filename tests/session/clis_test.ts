import assert from "node:assert/strict";
import { join } from "node:path";
import { mergeConfig } from "../../lib/core/config.ts";
import { AppError } from "../../lib/core/errors.ts";
import {
  cliLabel,
  DEMO_AGENT_COMMAND,
  detectClis,
  joinCommand,
  KNOWN_CLIS,
  resolveCli,
  searchPath,
  splitCommand,
  SYSTEM_DIRS_ENV,
  which,
} from "../../lib/session/clis.ts";
import { tempDir } from "./git_fixture.ts";

async function fakeBin(
  dir: string,
  name: string,
  exec = true,
): Promise<string> {
  const p = join(dir, name);
  await Deno.writeTextFile(p, "#!/bin/sh\nexit 0\n");
  await Deno.chmod(p, exec ? 0o755 : 0o644);
  return p;
}

const SELF = ["/opt/deno", "run", "-A", "/src/main.ts"];

Deno.test("KNOWN_CLIS lists the 17 binaries of AI CLI detection in probe order", () => {
  assert.equal(KNOWN_CLIS.length, 17);
  assert.deepEqual(KNOWN_CLIS.slice(0, 4), [
    "claude",
    "codex",
    "gemini",
    "aider",
  ]);
  assert.equal(KNOWN_CLIS.at(-1), "kimi");
});

Deno.test("detectClis() finds fake claude/aider on PATH, sorted, demo last", async () => {
  await using d = await tempDir();
  const bin = join(d.path, "bin");
  await Deno.mkdir(bin);
  const aider = await fakeBin(bin, "aider");
  const claude = await fakeBin(bin, "claude");
  await fakeBin(bin, "codex", false); // not executable: not detected
  const env = (k: string) => (k === "PATH" ? bin : undefined);
  const list = detectClis(mergeConfig({}, {}), {
    env,
    self: SELF,
    systemDirs: [],
  });
  assert.deepEqual(list.map((c) => c.name), ["aider", "claude", "demo"]);
  assert.deepEqual(list[0], {
    name: "aider",
    display: "Aider",
    argv: [aider],
    path: aider,
    source: "detected",
    submit_delay_ms: 1500,
    settings_path: null,
  });
  assert.equal(list[1]!.path, claude);
  const demo = list.at(-1)!;
  assert.equal(demo.source, "builtin");
  assert.deepEqual(demo.argv, [...SELF, DEMO_AGENT_COMMAND]);
  assert.equal(cliLabel(list[0]!), "Aider (aider)");
});

Deno.test("detectClis() launches custom CLIs by their command and lets them override detected ones", async () => {
  await using d = await tempDir();
  const bin = join(d.path, "my bin");
  await Deno.mkdir(bin);
  await fakeBin(bin, "claude");
  const tool = await fakeBin(bin, "my-tool");
  const abs = await fakeBin(d.path, "abs-agent");
  const warnings: string[] = [];
  const config = mergeConfig({
    clis: {
      zed: {
        command: `my-tool --mode 'fast lane' "two words"`,
        display_name: "Alpha",
      },
      claude: { command: `${abs} --wrapped` },
      ghost: { command: "not-installed-anywhere" },
    },
  }, {});
  const list = detectClis(config, {
    env: (k) => (k === "PATH" ? bin : undefined),
    self: SELF,
    systemDirs: [],
    onWarning: (m) => warnings.push(m),
  });
  assert.deepEqual(list.map((c) => c.name), ["zed", "claude", "demo"]);
  assert.deepEqual(list[0]!.argv, [tool, "--mode", "fast lane", "two words"]);
  assert.equal(list[0]!.source, "custom");
  assert.equal(list[0]!.display, "Alpha");
  assert.deepEqual(list[1]!.argv, [abs, "--wrapped"]);
  assert.equal(list[1]!.source, "custom");
  assert.deepEqual(warnings, [
    "custom CLI 'ghost' not found at 'not-installed-anywhere', skipping",
  ]);
});

Deno.test("resolveCli() returns the entry, appends extra words, names the choices when unknown", async () => {
  await using d = await tempDir();
  await fakeBin(d.path, "claude");
  const opts = {
    env: (k: string) => (k === "PATH" ? d.path : undefined),
    self: SELF,
    systemDirs: [],
  };
  const config = mergeConfig({}, {});
  assert.equal(resolveCli("claude", config, opts).path, join(d.path, "claude"));
  assert.deepEqual(resolveCli("claude --model 'x y'", config, opts).argv, [
    join(d.path, "claude"),
    "--model",
    "x y",
  ]);
  assert.equal(resolveCli("demo", config, opts).source, "builtin");
  assert.throws(() => resolveCli("codex", config, opts), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.match(
      e.message,
      /^unknown CLI 'codex'\. Detected CLIs: claude, demo\./,
    );
    return true;
  });
});

Deno.test("resolveCli() gives the very entry detectClis() lists for every name: custom over detected, a broken custom falls back, demo overridable", async () => {
  await using d = await tempDir();
  await fakeBin(d.path, "claude");
  await fakeBin(d.path, "aider");
  const mine = await fakeBin(d.path, "my-demo");
  const opts = {
    env: (k: string) => (k === "PATH" ? d.path : undefined),
    self: SELF,
    systemDirs: [],
  };
  const config = mergeConfig({
    clis: {
      aider: { command: "aider --no-git" },
      claude: { command: "not-installed-anywhere" },
      tool: { command: "aider --as-tool" },
      demo: { command: "my-demo --fast" },
    },
  }, {});
  const all = detectClis(config, opts);
  assert.deepEqual(all.map((c) => c.name).sort(), [
    "aider",
    "claude",
    "demo",
    "tool",
  ]);
  for (const entry of all) {
    assert.deepEqual(resolveCli(entry.name, config, opts), entry);
  }
  assert.equal(resolveCli("claude", config, opts).source, "detected");
  assert.deepEqual(resolveCli("demo", config, opts).argv, [mine, "--fast"]);
  assert.throws(() => resolveCli("gemini", config, opts), AppError);
  assert.throws(() => resolveCli("toString", config, opts), AppError);
});

Deno.test("splitCommand() splits shell words without expanding, and joinCommand() reverses it", () => {
  const argv = splitCommand(`a 'b c' "d \\"e\\"" $(touch x) \`y\` ;z`);
  assert.deepEqual(argv, ["a", "b c", 'd "e"', "$(touch", "x)", "`y`", ";z"]);
  assert.deepEqual(splitCommand(joinCommand(argv)), argv);
  assert.throws(() => splitCommand(`a 'b`), /cannot parse command/);
  assert.throws(() => splitCommand("   "), /command is empty/);
});

Deno.test("which() checks paths with a slash as given and refuses non-executables", async () => {
  await using d = await tempDir();
  const x = await fakeBin(d.path, "x");
  await fakeBin(d.path, "y", false);
  assert.equal(which(x), x);
  assert.equal(which(join(d.path, "y")), null);
  assert.equal(which("x", () => d.path, []), x);
  assert.equal(which("y", () => d.path, []), null);
});

Deno.test("searchPath() adds the system dirs after PATH, or $GIT_PAW_SYSTEM_DIRS instead of them", () => {
  const vars = (v: Record<string, string>) => (k: string) => v[k];
  assert.deepEqual(searchPath(vars({ PATH: "/a:/usr/bin" })), [
    "/a",
    "/usr/bin",
    "/bin",
    "/usr/local/bin",
  ]);
  assert.deepEqual(
    searchPath(vars({ PATH: "/a", [SYSTEM_DIRS_ENV]: "/x::/y" })),
    ["/a", "/x", "/y"],
  );
  assert.deepEqual(
    searchPath(vars({ PATH: "/a", [SYSTEM_DIRS_ENV]: "" })),
    ["/a"],
  );
  // An explicit list wins over the variable.
  assert.deepEqual(
    searchPath(vars({ PATH: "/a", [SYSTEM_DIRS_ENV]: "" }), ["/z"]),
    ["/a", "/z"],
  );
});

Deno.test("detectClis() with $GIT_PAW_SYSTEM_DIRS empty finds only what is on PATH", async () => {
  await using d = await tempDir();
  const sys = join(d.path, "sys");
  const bin = join(d.path, "bin");
  await Deno.mkdir(sys);
  await Deno.mkdir(bin);
  await fakeBin(sys, "claude");
  await fakeBin(bin, "aider");
  const vars: Record<string, string> = { PATH: bin, [SYSTEM_DIRS_ENV]: sys };
  const names = () =>
    detectClis(mergeConfig({}, {}), { env: (k) => vars[k], self: SELF })
      .map((c) => c.name);
  assert.deepEqual(names(), ["aider", "claude", "demo"]);
  vars[SYSTEM_DIRS_ENV] = "";
  assert.deepEqual(names(), ["aider", "demo"]);
});
