import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { makeRepo, tempDir } from "./git_fixture.ts";
import { cliFreePath, noMachineClis } from "../_helpers/env.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;
const dec = new TextDecoder();

type Run = { code: number; stdout: string; stderr: string };

async function paw(
  args: string[],
  opts: { cwd: string; env: Record<string, string> },
): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", "--config", CONFIG, MAIN, ...args],
    cwd: opts.cwd,
    env: { NO_COLOR: "1", ...noMachineClis(), ...opts.env },
    clearEnv: false,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

async function fakeBin(dir: string, name: string): Promise<string> {
  const p = join(dir, name);
  await Deno.writeTextFile(p, "#!/bin/sh\nexit 0\n");
  await Deno.chmod(p, 0o755);
  return p;
}

Deno.test("list-clis --json works outside a repo and shows fake CLIs, demo last", async () => {
  await using d = await tempDir();
  const bin = join(d.path, "bin");
  await Deno.mkdir(bin);
  const claude = await fakeBin(bin, "claude");
  const env = {
    XDG_CONFIG_HOME: join(d.path, "cfg"),
    PATH: `${bin}:${cliFreePath()}`,
  };
  const r = await paw(["list-clis", "--json"], { cwd: d.path, env });
  assert.equal(r.code, 0, r.stderr);
  const rows = JSON.parse(r.stdout).clis as Array<
    { name: string; source: string; path: string }
  >;
  const { supports, ...row } = rows.find((x) =>
    x.name === "claude"
  ) as unknown as {
    supports: Record<string, unknown>;
  };
  assert.deepEqual(row, {
    name: "claude",
    display: "Claude",
    source: "detected",
    path: claude,
    argv: [claude],
  });
  assert.equal(supports.prompt, "after-separator");
  assert.equal(supports.instructions, "CLAUDE.md");
  assert.equal(supports.settings_file, ".claude/settings.local.json");
  assert.deepEqual(supports.resume, ["--continue"]);
  assert.ok((supports.hooks as string[]).includes("Notification"));
  assert.equal(rows.at(-1)!.name, "demo");
  assert.equal(rows.at(-1)!.source, "builtin");
  const text = await paw(["list-clis"], { cwd: d.path, env });
  assert.equal(text.code, 0);
  assert.match(text.stdout, /^NAME {12}SOURCE {5}PATH$/m);
  assert.match(
    text.stdout,
    new RegExp(`^claude {10}detected {3}${claude}$`, "m"),
  );
});

Deno.test("add-cli stores an absolute command, list-clis shows it, remove-cli drops it", async () => {
  await using d = await tempDir();
  const bin = join(d.path, "bin");
  await Deno.mkdir(bin);
  const tool = await fakeBin(bin, "my-agent");
  const cfgHome = join(d.path, "cfg");
  const env = {
    XDG_CONFIG_HOME: cfgHome,
    PATH: `${bin}:${cliFreePath()}`,
  };
  const add = await paw(
    ["add-cli", "mine", "my-agent --mode 'a b'", "--display-name", "Mine"],
    { cwd: d.path, env },
  );
  assert.equal(add.code, 0, add.stderr);
  assert.equal(add.stdout.trim(), "Added custom CLI 'mine'.");
  const file = await Deno.readTextFile(join(cfgHome, "git-paw", "config.toml"));
  assert.match(file, /\[clis\.mine\]/);
  assert.ok(file.includes(`command = "${tool} --mode 'a b'"`), file);
  assert.match(file, /display_name = "Mine"/);

  const list = await paw(["list-clis", "--json"], { cwd: d.path, env });
  const rows = JSON.parse(list.stdout).clis as Array<
    { name: string; source: string; argv: string[] }
  >;
  const mine = rows.find((x) => x.name === "mine");
  assert.deepEqual(mine?.argv, [tool, "--mode", "a b"]);
  assert.equal(mine?.source, "custom");

  const rm = await paw(["remove-cli", "mine"], { cwd: d.path, env });
  assert.equal(rm.code, 0, rm.stderr);
  assert.equal(rm.stdout.trim(), "Removed custom CLI 'mine'.");
  const again = await paw(["remove-cli", "mine"], { cwd: d.path, env });
  assert.equal(again.code, 1);
  assert.equal(again.stderr.trim(), "error: CLI 'mine' not found in config");
});

Deno.test("add-cli refuses a missing program and a bad name, changing nothing", async () => {
  await using d = await tempDir();
  const cfgHome = join(d.path, "cfg");
  const env = { XDG_CONFIG_HOME: cfgHome };
  const missing = await paw(["add-cli", "x", "no-such-program-paw"], {
    cwd: d.path,
    env,
  });
  assert.equal(missing.code, 1);
  assert.equal(
    missing.stderr.trim(),
    "error: command 'no-such-program-paw' not found on PATH",
  );
  const bad = await paw(["add-cli", "-x;y", "git"], { cwd: d.path, env });
  assert.notEqual(bad.code, 0);
  const demo = await paw(["add-cli", "demo", "git"], { cwd: d.path, env });
  assert.equal(demo.code, 2);
  assert.match(demo.stderr, /built-in demo agent/);
  assert.equal(existsSync(join(cfgHome, "git-paw", "config.toml")), false);
});

Deno.test("remove-cli explains auto-detected, built-in and repo-defined CLIs in one clear line", async () => {
  await using r = await makeRepo();
  const bin = join(r.path, "bin");
  await Deno.mkdir(bin);
  await fakeBin(bin, "aider");
  await Deno.mkdir(join(r.repo, ".git-paw"));
  await Deno.writeTextFile(
    join(r.repo, ".git-paw", "config.toml"),
    `[clis.local]\ncommand = "git"\n`,
  );
  const env = {
    XDG_CONFIG_HOME: join(r.path, "cfg"),
    PATH: `${bin}:${cliFreePath()}`,
  };
  const detected = await paw(["remove-cli", "aider"], { cwd: r.repo, env });
  assert.equal(detected.code, 1);
  assert.equal(
    detected.stderr.trim(),
    "error: CLI 'aider' is auto-detected on PATH, not a custom CLI; there is nothing to remove",
  );
  const builtin = await paw(["remove-cli", "demo"], { cwd: r.repo, env });
  assert.match(builtin.stderr, /^error: CLI 'demo' is the built-in demo agent/);
  const local = await paw(["remove-cli", "local"], { cwd: r.repo, env });
  assert.equal(local.code, 1);
  assert.match(
    local.stderr,
    /^error: CLI 'local' is defined in .*\.git-paw\/config\.toml/,
  );
});

Deno.test("list-clis reports a broken config with the file and key", async () => {
  await using r = await makeRepo();
  await Deno.mkdir(join(r.repo, ".git-paw"));
  await Deno.writeTextFile(
    join(r.repo, ".git-paw", "config.toml"),
    `[clis.x]\ncomand = "git"\n`,
  );
  const res = await paw(["list-clis"], {
    cwd: r.repo,
    env: { XDG_CONFIG_HOME: join(r.path, "cfg") },
  });
  assert.equal(res.code, 1);
  assert.equal(
    res.stderr.trim(),
    `error: Config error: ${
      join(r.repo, ".git-paw", "config.toml")
    }: clis.x.comand: unknown key`,
  );
});
