/**
 * `git paw doctor`: the pure verdicts, each check against a temp HOME with
 * seeded CLI files and stand-in CLIs on a temp PATH, and the command as a
 * user runs it (exit code, `--json`, NO_COLOR). Nothing here reads the
 * machine's PATH, HOME or real CLIs: git is linked into the temp PATH, tmux
 * and the AI CLIs are stand-in scripts.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  claudeTrusts,
  codexProviderKeyVar,
  codexTrustLevel,
  type DoctorReport,
  geminiTrust,
  judgeDeno,
  judgeInotify,
  judgeTmux,
  renderReport,
} from "../../lib/core/doctor.ts";
import { type CliEntry, SYSTEM_DIRS_ENV } from "../../lib/session/clis.ts";
import {
  checkBrokerPort,
  checkCliCredentials,
  checkCliTrust,
  checkCliVersion,
  checkCodexDaemon,
  checkCodexSandbox,
  checkInotify,
  defaultDoctorDeps,
  type DoctorDeps,
} from "../../lib/session/doctor.ts";
import { defaultConfig } from "../../lib/core/config.ts";
import type { Receipt } from "../../lib/core/session.ts";
import { pawArgs } from "../_helpers/paw_command.ts";
import { makeRepo } from "./git_fixture.ts";

const dec = new TextDecoder();

Deno.test("judgeTmux() fails when missing or older than 3.2, passes 3.2+", () => {
  assert.equal(judgeTmux(null).status, "fail");
  assert.ok(judgeTmux(null).remedy);
  assert.equal(judgeTmux("tmux 3.1c\n").status, "fail");
  assert.equal(judgeTmux("tmux 3.2").status, "ok");
  assert.equal(judgeTmux("tmux 3.3a").status, "ok");
  assert.equal(judgeTmux("tmux next-3.6").status, "ok");
  assert.equal(judgeTmux("tmux master").status, "ok");
});

Deno.test("judgeDeno() is ok on the pin, warns on another 2.x, fails on 1.x", () => {
  assert.equal(judgeDeno("2.9.6", "2.9.6").status, "ok");
  const other = judgeDeno("2.10.0", "2.9.6");
  assert.equal(other.status, "warn");
  assert.match(other.remedy!, /2\.9\.6/);
  assert.equal(judgeDeno("1.46.3", "2.9.6").status, "fail");
});

Deno.test("judgeInotify() warns below twice the tracked files or few instances", () => {
  const base = { watches: 8192, instances: 128, worktrees: 3 };
  assert.equal(judgeInotify({ ...base, files: 1000 }).status, "ok");
  const low = judgeInotify({ ...base, files: 5000 });
  assert.equal(low.status, "warn");
  assert.match(low.remedy!, /sysctl fs\.inotify\.max_user_watches=\d+/);
  const few = judgeInotify({ ...base, instances: 8, files: 10 });
  assert.equal(few.status, "warn");
  assert.match(few.remedy!, /max_user_instances/);
  assert.equal(judgeInotify({ ...base, files: null }).status, "ok");
});

Deno.test("claudeTrusts() reads projects[repo or a parent].hasTrustDialogAccepted", () => {
  const trusted = { projects: { "/r": { hasTrustDialogAccepted: true } } };
  assert.equal(claudeTrusts(trusted, "/r"), true);
  assert.equal(claudeTrusts(trusted, "/r/sub"), true);
  assert.equal(claudeTrusts(trusted, "/other"), false);
  assert.equal(
    claudeTrusts(
      { projects: { "/r": { hasTrustDialogAccepted: false } } },
      "/r",
    ),
    false,
  );
  assert.equal(claudeTrusts("not an object", "/r"), false);
});

Deno.test("codexTrustLevel() and codexProviderKeyVar() read config.toml data", () => {
  const cfg = {
    model_provider: "mock",
    model_providers: { mock: { env_key: "MY_KEY" } },
    projects: { "/r": { trust_level: "trusted" } },
  };
  assert.equal(codexTrustLevel(cfg, "/r"), "trusted");
  assert.equal(codexTrustLevel(cfg, "/x"), null);
  assert.equal(codexProviderKeyVar(cfg), "MY_KEY");
  assert.equal(codexProviderKeyVar({}), null);
});

Deno.test("geminiTrust() lets the longest matching rule win", () => {
  assert.equal(geminiTrust({ "/a": "TRUST_FOLDER" }, "/a/r"), "trusted");
  assert.equal(
    geminiTrust({ "/a": "TRUST_FOLDER", "/a/r": "DO_NOT_TRUST" }, "/a/r"),
    "untrusted",
  );
  assert.equal(geminiTrust({ "/a/x": "TRUST_PARENT" }, "/a/r"), "trusted");
  assert.equal(geminiTrust({ "/b": "TRUST_FOLDER" }, "/a/r"), null);
  assert.equal(geminiTrust({ "/a/rr": "TRUST_FOLDER" }, "/a/r"), null);
});

Deno.test("renderReport() prints each remedy under its check and a summary", () => {
  const report: DoctorReport = {
    ok: false,
    checks: [
      { id: "git", status: "ok", detail: "git version 2.45" },
      { id: "tmux", status: "fail", detail: "too old", remedy: "upgrade" },
    ],
  };
  const lines = renderReport(report);
  assert.match(lines[0]!, /^ok\s+git\s+git version 2\.45$/);
  assert.match(lines[1]!, /^FAIL\s+tmux\s+too old$/);
  assert.match(lines[2]!, /→ upgrade$/);
  assert.equal(lines.at(-1), "1 check failed.");
});

// ---- checks against a temp world --------------------------------------------

/** A temp HOME and a temp bin dir; dispose removes both. */
type Box = AsyncDisposable & { root: string; home: string; bin: string };

async function box(): Promise<Box> {
  const root = await Deno.realPath(await Deno.makeTempDir({ prefix: "doc" }));
  const home = join(root, "home"), bin = join(root, "bin");
  await Deno.mkdir(home);
  await Deno.mkdir(bin);
  return {
    root,
    home,
    bin,
    [Symbol.asyncDispose]: () => Deno.remove(root, { recursive: true }),
  };
}

/** A stand-in program: a shell script. */
async function script(path: string, body: string): Promise<string> {
  await Deno.writeTextFile(path, `#!/bin/sh\n${body}\n`);
  await Deno.chmod(path, 0o755);
  return path;
}

async function writeFile(path: string, text: string): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text);
}

function deps(b: Box, env: Record<string, string> = {}): DoctorDeps {
  const all: Record<string, string> = { HOME: b.home, PATH: b.bin, ...env };
  return {
    ...defaultDoctorDeps(),
    cwd: b.root,
    env: (k) => all[k],
    systemDirs: [],
    procDir: join(b.root, "proc"),
  };
}

function entry(name: string, path: string): CliEntry {
  return {
    name,
    display: name,
    argv: [path],
    path,
    source: "detected",
    submit_delay_ms: 0,
    settings_path: null,
  };
}

Deno.test("checkCliVersion() reports the version, what is written, or a timeout", async () => {
  await using b = await box();
  const claude = await script(
    join(b.bin, "claude"),
    'echo "2.1.328 (Claude Code)"',
  );
  const c = await checkCliVersion(deps(b), entry("claude", claude));
  assert.equal(c.status, "ok");
  assert.match(c.detail, /2\.1\.328 \(Claude Code\)/);
  assert.match(c.detail, /writes: instructions, permissions, hooks/);

  const aider = await script(join(b.bin, "aider"), "echo aider 0.86.1");
  const a = await checkCliVersion(deps(b), entry("aider", aider));
  assert.match(a.detail, /AGENTS\.md only/);

  const broken = await script(join(b.bin, "codex"), "echo boom >&2; exit 3");
  const x = await checkCliVersion(deps(b), entry("codex", broken));
  assert.equal(x.status, "warn");
  assert.match(x.detail, /exited 3: boom/);

  const slow = await script(join(b.bin, "gemini"), "exec sleep 30");
  const t0 = Date.now();
  const s = await checkCliVersion(
    { ...deps(b), versionTimeoutMs: 300 },
    entry("gemini", slow),
  );
  assert.equal(s.status, "warn");
  assert.ok(Date.now() - t0 < 10_000, "the timeout ends the child");
  assert.ok(s.remedy);
});

Deno.test("checkCliCredentials() names what is present, never a value", async () => {
  await using b = await box();
  const claude = entry("claude", "/x/claude");
  const missing = await checkCliCredentials(deps(b), claude);
  assert.equal(missing?.status, "warn");
  assert.match(missing!.detail, /^missing/);
  assert.ok(missing!.remedy);

  const secret = "sk-ant-do-not-print-me";
  const viaEnv = await checkCliCredentials(
    deps(b, { ANTHROPIC_API_KEY: secret }),
    claude,
  );
  assert.equal(viaEnv?.status, "ok");
  assert.equal(viaEnv!.detail, "present (ANTHROPIC_API_KEY)");
  assert.ok(!JSON.stringify(viaEnv).includes(secret));

  await writeFile(join(b.home, ".claude", ".credentials.json"), "{}");
  const viaFile = await checkCliCredentials(deps(b), claude);
  assert.equal(viaFile?.status, "ok");
  assert.match(viaFile!.detail, /\.credentials\.json/);

  // codex: a custom provider's env_key counts, and so does auth.json.
  const codex = entry("codex", "/x/codex");
  const ch = join(b.home, ".codex");
  await writeFile(
    join(ch, "config.toml"),
    'model_provider = "m"\n[model_providers.m]\nenv_key = "MOCK_KEY"\n',
  );
  assert.equal((await checkCliCredentials(deps(b), codex))?.status, "warn");
  assert.equal(
    (await checkCliCredentials(deps(b, { MOCK_KEY: "k" }), codex))?.detail,
    "present (MOCK_KEY)",
  );
  await writeFile(join(ch, "auth.json"), "{}");
  assert.equal((await checkCliCredentials(deps(b), codex))?.status, "ok");

  const gemini = entry("gemini", "/x/gemini");
  assert.equal((await checkCliCredentials(deps(b), gemini))?.status, "warn");
  await writeFile(join(b.home, ".gemini", "oauth_creds.json"), "{}");
  assert.equal((await checkCliCredentials(deps(b), gemini))?.status, "ok");

  assert.equal(
    await checkCliCredentials(deps(b), entry("aider", "/x/aider")),
    null,
  );
});

Deno.test("checkCliTrust() reads each CLI's trust file for the repo", async () => {
  await using b = await box();
  const repo = join(b.root, "proj");
  const claude = entry("claude", "/x/claude");
  assert.equal((await checkCliTrust(deps(b), claude, repo))?.status, "warn");
  await writeFile(
    join(b.home, ".claude.json"),
    JSON.stringify({ projects: { [repo]: { hasTrustDialogAccepted: true } } }),
  );
  assert.equal((await checkCliTrust(deps(b), claude, repo))?.status, "ok");
  // CLAUDE_CONFIG_DIR moves .claude.json: the HOME one no longer counts.
  const cfgDir = join(b.root, "claude-cfg");
  assert.equal(
    (await checkCliTrust(deps(b, { CLAUDE_CONFIG_DIR: cfgDir }), claude, repo))
      ?.status,
    "warn",
  );

  const codex = entry("codex", "/x/codex");
  const ch = join(b.root, "codex-home");
  await writeFile(
    join(ch, "config.toml"),
    `[projects.${JSON.stringify(repo)}]\ntrust_level = "trusted"\n`,
  );
  assert.equal((await checkCliTrust(deps(b), codex, repo))?.status, "warn");
  assert.equal(
    (await checkCliTrust(deps(b, { CODEX_HOME: ch }), codex, repo))?.status,
    "ok",
  );

  const gemini = entry("gemini", "/x/gemini");
  await writeFile(
    join(b.home, ".gemini", "trustedFolders.json"),
    JSON.stringify({ [repo]: "DO_NOT_TRUST" }),
  );
  const g = await checkCliTrust(deps(b), gemini, repo);
  assert.equal(g?.status, "warn");
  assert.match(g!.detail, /marked untrusted/);
  await writeFile(
    join(b.home, ".gemini", "trustedFolders.json"),
    JSON.stringify({ [repo]: "TRUST_FOLDER" }),
  );
  assert.equal((await checkCliTrust(deps(b), gemini, repo))?.status, "ok");
});

Deno.test("checkCodexDaemon() warns about a live daemon pid, with the stop command", async () => {
  await using b = await box();
  const ch = join(b.home, ".codex");
  assert.equal((await checkCodexDaemon(deps(b))).status, "ok");
  const dir = join(ch, "app-server-daemon");
  await writeFile(join(dir, "daemon-updater.pid"), `{"pid":${Deno.pid}}`);
  // A fake /proc with this pid present; a pid without an entry is dead.
  await Deno.mkdir(join(b.root, "proc", String(Deno.pid)), { recursive: true });
  await writeFile(join(dir, "daemon.pid"), "999999999\n");
  const c = await checkCodexDaemon(deps(b));
  assert.equal(c.status, "warn");
  assert.match(c.detail, new RegExp(`daemon-updater pid ${Deno.pid}`));
  assert.doesNotMatch(c.detail, /999999999/);
  assert.match(c.remedy!, /codex app-server daemon stop/);
  assert.ok(c.remedy!.includes(ch));
});

Deno.test("checkCodexSandbox() finds bwrap on PATH, else names the package; Linux only", async () => {
  await using b = await box();
  const miss = checkCodexSandbox(deps(b), "linux");
  assert.equal(miss?.status, "warn");
  assert.match(miss!.detail, /bubblewrap \(bwrap\) is not on PATH/);
  assert.match(miss!.remedy!, /install bubblewrap/);
  const bwrap = await script(join(b.bin, "bwrap"), "exit 0");
  const ok = checkCodexSandbox(deps(b), "linux");
  assert.equal(ok?.status, "ok");
  assert.ok(ok!.detail.includes(bwrap));
  assert.equal(checkCodexSandbox(deps(b), "darwin"), null);
});

Deno.test("checkInotify() judges /proc limits and skips without them", async () => {
  await using b = await box();
  const facts = { root: "/r", trackedFiles: 100, worktrees: 2 };
  const skipped = await checkInotify(deps(b), facts);
  assert.equal(skipped.status, "ok");
  assert.match(skipped.detail, /skipped/);
  const dir = join(b.root, "proc", "sys", "fs", "inotify");
  await writeFile(join(dir, "max_user_watches"), "300\n");
  await writeFile(join(dir, "max_user_instances"), "128\n");
  const low = await checkInotify(deps(b), facts);
  assert.equal(low.status, "warn");
  assert.match(low.detail, /200 tracked files in 2 worktrees/);
  await writeFile(join(dir, "max_user_watches"), "65536\n");
  assert.equal((await checkInotify(deps(b), facts)).status, "ok");
});

Deno.test("checkBrokerPort() tells a free port, this session's broker and another holder apart", async () => {
  await using b = await box();
  const config = defaultConfig();
  const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (held.addr as Deno.NetAddr).port;
    config.broker.port = port;
    const receipt = { session_name: "paw-proj", broker_token: "t" } as Receipt;
    const asked: Array<[string, string | undefined]> = [];
    const withProbe = (answer: "ours" | "other-session"): DoctorDeps => ({
      ...deps(b),
      findReceipt: () => Promise.resolve(receipt),
      probe: (_url, session, token) => {
        asked.push([session, token]);
        return Promise.resolve(answer);
      },
    });
    const ours = await checkBrokerPort(withProbe("ours"), config, "/r");
    assert.equal(ours.status, "ok");
    assert.match(ours.detail, /this repo's session 'paw-proj'/);
    assert.deepEqual(asked[0], ["paw-proj", "t"]);
    const other = await checkBrokerPort(
      withProbe("other-session"),
      config,
      "/r",
    );
    assert.equal(other.status, "fail");
    assert.match(other.detail, /another git-paw session/);
    assert.match(other.remedy!, /\[broker\] port/);
  } finally {
    held.close();
  }
  config.broker.port = 0;
  assert.equal((await checkBrokerPort(deps(b), config, null)).status, "ok");
});

// ---- the command, as a user runs it -----------------------------------------

/** Variables a CLI reads credentials or config from: never inherited. */
const CLI_VARS =
  /^(ANTHROPIC_|CLAUDE_|OPENAI_|CODEX_|GEMINI_|GOOGLE_|XDG_|TMUX|NO_COLOR$|FORCE_COLOR$)/;

let denoDir: string | undefined;
async function realDenoDir(): Promise<string> {
  if (denoDir) return denoDir;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  denoDir = (JSON.parse(dec.decode(out.stdout)) as { denoDir: string })
    .denoDir;
  return denoDir;
}

/** A temp repo, HOME and PATH with git linked in and stand-in tmux/claude/codex. */
async function world() {
  const repoBox = await makeRepo();
  const b = await box();
  const git = await which("git");
  await Deno.symlink(git, join(b.bin, "git"));
  await script(join(b.bin, "tmux"), 'echo "tmux 3.4"');
  await script(join(b.bin, "claude"), 'echo "2.1.328 (Claude Code)"');
  await script(join(b.bin, "codex"), 'echo "codex-cli 0.169.0"');
  const base = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => !CLI_VARS.test(k)),
  );
  const env: Record<string, string> = {
    ...base,
    DENO_DIR: Deno.env.get("DENO_DIR") ?? await realDenoDir(),
    HOME: b.home,
    PATH: b.bin,
    [SYSTEM_DIRS_ENV]: "", // CLIs from b.bin only, none of the machine's
    XDG_CONFIG_HOME: join(b.root, "config"),
    XDG_DATA_HOME: join(b.root, "data"),
  };
  return {
    repo: repoBox.repo,
    box: b,
    env,
    async config(toml: string) {
      await writeFile(join(b.root, "config", "git-paw", "config.toml"), toml);
    },
    async doctor(args: string[], extra: Record<string, string> = {}) {
      const o = await new Deno.Command(Deno.execPath(), {
        args: pawArgs(["doctor", ...args]),
        cwd: repoBox.repo,
        env: { ...env, ...extra },
        clearEnv: true,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      return {
        code: o.code,
        stdout: dec.decode(o.stdout),
        stderr: dec.decode(o.stderr),
      };
    },
    async [Symbol.asyncDispose]() {
      await b[Symbol.asyncDispose]();
      await repoBox[Symbol.asyncDispose]();
    },
  };
}

async function which(bin: string): Promise<string> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const p = join(dir, bin);
      if ((await Deno.stat(p)).isFile) return await Deno.realPath(p);
    } catch { /* next */ }
  }
  throw new Error(`${bin} is needed for this test`);
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

function byId(report: DoctorReport, id: string) {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `no check ${id} in ${report.checks.map((x) => x.id)}`);
  return c;
}

Deno.test("doctor --json lists stand-in CLIs with versions, credentials and trust; exit 0 when healthy", async () => {
  await using w = await world();
  await w.config(`[broker]\nport = ${freePort()}\n`);
  await writeFile(
    join(w.box.home, ".claude.json"),
    JSON.stringify({
      projects: { [w.repo]: { hasTrustDialogAccepted: true } },
    }),
  );
  const secret = "sk-ant-test-secret-value";
  const r = await w.doctor(["--json"], { ANTHROPIC_API_KEY: secret });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(!r.stdout.includes(secret), "a secret's value is never printed");
  const report = JSON.parse(r.stdout) as DoctorReport;
  assert.equal(report.ok, true);
  for (const c of report.checks) {
    assert.deepEqual(
      Object.keys(c).filter((k) =>
        !["id", "status", "detail", "remedy"].includes(k)
      ),
      [],
    );
    assert.ok(["ok", "warn", "fail"].includes(c.status));
    if (c.status !== "ok") assert.ok(c.remedy, `${c.id} has a remedy`);
  }
  assert.equal(byId(report, "git").status, "ok");
  assert.equal(byId(report, "repo").status, "ok");
  assert.equal(byId(report, "tmux").detail, "tmux 3.4");
  assert.match(byId(report, "cli.claude").detail, /2\.1\.328 \(Claude Code\)/);
  assert.match(byId(report, "cli.codex").detail, /codex-cli 0\.169\.0/);
  assert.equal(byId(report, "cli.claude.credentials").status, "ok");
  assert.equal(byId(report, "cli.codex.credentials").status, "warn");
  assert.equal(byId(report, "cli.claude.trust").status, "ok");
  assert.equal(byId(report, "cli.codex.trust").status, "warn");
  assert.equal(byId(report, "cli.codex.daemon").status, "ok");
  assert.equal(byId(report, "broker.port").status, "ok");
  assert.equal(byId(report, "config.global").status, "ok");
});

Deno.test("doctor fails with a remedy when a foreign program holds the broker port", async () => {
  await using w = await world();
  const ac = new AbortController();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    signal: ac.signal,
    onListen: () => {},
  }, () => new Response("not git-paw"));
  try {
    await w.config(`[broker]\nport = ${server.addr.port}\n`);
    const r = await w.doctor(["--json"]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as DoctorReport;
    assert.equal(report.ok, false);
    const port = byId(report, "broker.port");
    assert.equal(port.status, "fail");
    assert.match(port.detail, /another program/);
    assert.match(port.remedy!, /\[broker\] port/);

    const human = await w.doctor([]);
    assert.equal(human.code, 1);
    assert.match(human.stdout, /FAIL\s+broker\.port/);
    assert.match(human.stdout, /→ set `\[broker\] port`/);
  } finally {
    ac.abort();
    await server.finished;
  }
});

Deno.test("doctor fails on an old tmux and a broken config file", async () => {
  await using w = await world();
  await script(join(w.box.bin, "tmux"), 'echo "tmux 3.1c"');
  await w.config("[broker\nport = 1\n");
  const r = await w.doctor(["--json"]);
  assert.equal(r.code, 1);
  const report = JSON.parse(r.stdout) as DoctorReport;
  assert.equal(byId(report, "tmux").status, "fail");
  const cfg = byId(report, "config.global");
  assert.equal(cfg.status, "fail");
  assert.match(cfg.detail, /invalid TOML/);
});

Deno.test("doctor respects NO_COLOR (and colours only when allowed)", async () => {
  await using w = await world();
  await w.config(`[broker]\nport = ${freePort()}\n`);
  const coloured = await w.doctor([], { FORCE_COLOR: "1" });
  assert.equal(coloured.code, 0, coloured.stdout + coloured.stderr);
  assert.ok(coloured.stdout.includes("\x1b["), "coloured");
  const plain = await w.doctor([], { FORCE_COLOR: "1", NO_COLOR: "1" });
  assert.equal(plain.code, 0);
  assert.ok(!plain.stdout.includes("\x1b["), "no colour under NO_COLOR");
  assert.match(plain.stdout, /^ok\s+git\s+git version/m);
});

Deno.test("doctor outside a repo warns and says what start needs", async () => {
  await using w = await world();
  await w.config(`[broker]\nport = ${freePort()}\n`);
  const o = await new Deno.Command(Deno.execPath(), {
    args: pawArgs(["doctor", "--json"]),
    cwd: w.box.home,
    env: w.env,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(o.code, 0, dec.decode(o.stderr));
  const report = JSON.parse(dec.decode(o.stdout)) as DoctorReport;
  const repo = byId(report, "repo");
  assert.equal(repo.status, "warn");
  assert.match(repo.remedy!, /at least one commit/);
  assert.ok(!report.checks.some((c) => c.id.endsWith(".trust")));
});
