import assert from "node:assert/strict";
import { join } from "node:path";
import {
  brokerUrl,
  defaultConfig,
  mergeConfig,
  validateConfig,
} from "../../lib/core/config.ts";
import {
  globalConfigPath,
  loadConfig,
  readConfigFile,
  repoConfigPath,
  writeGlobalConfig,
} from "../../lib/session/config_store.ts";
import { AppError } from "../../lib/core/errors.ts";
import { tempDir } from "./git_fixture.ts";

Deno.test("defaultConfig() has the documented defaults, broker on", () => {
  const c = defaultConfig();
  assert.equal(c.broker.enabled, true);
  assert.equal(c.broker.port, 9119);
  assert.equal(c.broker.bind, "127.0.0.1");
  assert.equal(c.broker.watcher.republish_working_ttl_seconds, 60);
  assert.equal(c.broker.conflicts.enabled, true);
  assert.equal(c.broker.learnings.enabled, false);
  assert.equal(c.worktree_placement, "sibling");
  assert.equal(c.mouse, true);
  assert.equal(c.branch_prefix, "spec/");
  assert.equal(c.default_cli, null);
  assert.equal(c.specs, null);
  assert.equal(c.supervisor.configured, false);
  assert.equal(c.supervisor.auto_approve, null);
  assert.equal(c.supervisor.conflict.window_seconds, 120);
  assert.equal(c.supervisor.conflict.warn_on_intent_overlap, true);
  assert.equal(c.supervisor.conflict.escalate_on_violation, true);
  assert.equal(c.dashboard.broker_log.max_messages, 500);
  assert.equal(c.dashboard.broker_log.default_visible, true);
  assert.equal(c.layout.border_affordances, true);
  assert.equal(c.mcp.name, "git-paw");
  assert.deepEqual(c.notify, {
    command: null,
    bell: true,
    stall_threshold_seconds: 300,
  });
  assert.equal(brokerUrl(c), "http://127.0.0.1:9119");
});

Deno.test("mergeConfig() merges nested tables key by key, repo wins per key", () => {
  const c = mergeConfig(
    {
      default_cli: "claude",
      mouse: false,
      broker: {
        port: 9200,
        bind: "127.0.0.1",
        watcher: { republish_working_ttl_seconds: 30 },
      },
      supervisor: {
        enabled: true,
        test_command: "deno task test",
        conflict: { window_seconds: 30, warn_on_intent_overlap: false },
      },
      clis: {
        mine: { command: "/opt/mine --fast", display_name: "Mine" },
        other: { command: "/opt/other" },
      },
      presets: { duo: { branches: ["a", "b"], cli: "claude" } },
      governance: { adr: "docs/adr" },
      notify: { bell: false },
    },
    {
      broker: { port: 9300 },
      supervisor: { cli: "codex", conflict: { window_seconds: 60 } },
      clis: { mine: { command: "/opt/mine2" } },
      presets: { solo: { branches: ["c"], cli: "aider" } },
      governance: { dod: "DOD.md" },
      notify: { command: ["notify-send", "paw"] },
    },
  );
  assert.equal(c.default_cli, "claude");
  assert.equal(c.mouse, false);
  assert.equal(c.broker.port, 9300);
  assert.equal(c.broker.bind, "127.0.0.1");
  assert.equal(c.broker.enabled, true);
  assert.equal(c.broker.watcher.republish_working_ttl_seconds, 30);
  // The repo [supervisor] table does NOT drop the global supervisor keys.
  assert.equal(c.supervisor.configured, true);
  assert.equal(c.supervisor.enabled, true);
  assert.equal(c.supervisor.test_command, "deno task test");
  assert.equal(c.supervisor.cli, "codex");
  assert.equal(c.supervisor.conflict.window_seconds, 60);
  assert.equal(c.supervisor.conflict.warn_on_intent_overlap, false);
  assert.equal(c.supervisor.conflict.escalate_on_violation, true);
  // [clis.mine]: repo command wins, global display_name kept.
  assert.deepEqual(c.clis.mine, {
    command: "/opt/mine2",
    display_name: "Mine",
    submit_delay_ms: 1500,
    settings_path: null,
  });
  assert.equal(c.clis.other?.command, "/opt/other");
  assert.deepEqual(Object.keys(c.presets).sort(), ["duo", "solo"]);
  assert.equal(c.governance.adr, "docs/adr");
  assert.equal(c.governance.dod, "DOD.md");
  assert.deepEqual(c.notify, {
    command: ["notify-send", "paw"],
    bell: false,
    stall_threshold_seconds: 300,
  });
});

Deno.test("mergeConfig() replaces arrays rather than concatenating them", () => {
  const c = mergeConfig(
    { presets: { p: { branches: ["a", "b"], cli: "x" } } },
    { presets: { p: { branches: ["c"], cli: "x" } } },
  );
  assert.deepEqual(c.presets.p?.branches, ["c"]);
});

Deno.test("mergeConfig() clamps a watcher TTL of 1-4 to 5 with a warning, keeps 0", () => {
  const warnings: string[] = [];
  const c = mergeConfig({}, {
    broker: { watcher: { republish_working_ttl_seconds: 2 } },
  }, { onWarning: (m) => warnings.push(m) });
  assert.equal(c.broker.watcher.republish_working_ttl_seconds, 5);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /republish_working_ttl_seconds/);
  const z = mergeConfig({
    broker: { watcher: { republish_working_ttl_seconds: 0 } },
  }, {});
  assert.equal(z.broker.watcher.republish_working_ttl_seconds, 0);
});

Deno.test("mergeConfig() turns an [supervisor.auto_approve] table into defaults", () => {
  const c = mergeConfig({}, { supervisor: { auto_approve: {} } });
  assert.deepEqual(c.supervisor.auto_approve, {
    enabled: true,
    safe_commands: [],
    stall_threshold_seconds: 30,
    approval_level: "safe",
    approve_worktree_writes: true,
  });
  assert.equal(c.supervisor.enabled, false);
  assert.equal(c.supervisor.configured, true);
});

Deno.test("validateConfig() names the file and the nested unknown key", () => {
  const r = validateConfig(
    { supervisor: { conflict: { windw_seconds: 3 } } },
    "/r/.git-paw/config.toml",
  );
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.key, "supervisor.conflict.windw_seconds");
  assert.equal(
    r.error,
    "/r/.git-paw/config.toml: supervisor.conflict.windw_seconds: unknown key",
  );
});

Deno.test("validateConfig() names the key on a wrong type or enum value", () => {
  const t = validateConfig({ broker: { port: "9119" } }, "/g.toml");
  assert.equal(t.ok, false);
  if (!t.ok) {
    assert.equal(t.error, "/g.toml: broker.port: expected number, got string");
  }
  const e = validateConfig({ worktree_placement: "nested" }, "/g.toml");
  assert.equal(e.ok, false);
  if (!e.ok) {
    assert.equal(e.key, "worktree_placement");
    assert.match(e.error, /must be one of "sibling", "child"/);
  }
  const c = validateConfig({ clis: { x: { display_name: "X" } } }, "/g.toml");
  assert.equal(c.ok, false);
  if (!c.ok) {
    assert.equal(c.error, "/g.toml: clis.x.command: required key is missing");
  }
  const top = validateConfig({ colour: true }, "/g.toml");
  assert.equal(top.ok, false);
  if (!top.ok) assert.equal(top.error, "/g.toml: colour: unknown key");
});

Deno.test("validateConfig() accepts every documented section", () => {
  const r = validateConfig({
    default_cli: "claude",
    default_spec_cli: "codex",
    branch_prefix: "task/",
    mouse: true,
    worktree_placement: "child",
    clis: {
      c: {
        command: "/bin/c",
        display_name: "C",
        submit_delay_ms: 10,
        settings_path: "~/s.json",
      },
    },
    presets: { p: { branches: ["a"], cli: "c" } },
    specs: { dir: "specs", type: "markdown" },
    logging: { enabled: true },
    dashboard: {
      show_message_log: false,
      broker_log: { max_messages: 10, default_visible: false },
    },
    broker: {
      enabled: false,
      port: 1,
      bind: "127.0.0.1",
      watcher: { republish_working_ttl_seconds: 9 },
      conflicts: { enabled: false },
      learnings: { enabled: true },
    },
    supervisor: {
      enabled: true,
      cli: "claude",
      agent_approval: "full-auto",
      learnings: true,
      auto_approve: { approval_level: "conservative" },
      conflict: { window_seconds: 5 },
      learnings_config: { broker_publish: "force_off" },
      common_dev_allowlist: { extra: ["make"] },
      tell: { mode: "send-keys" },
    },
    governance: { constitution: "c.md" },
    layout: { border_affordances: false },
    opsx: { role_gating: "block" },
    mcp: { name: "paw" },
    notify: { command: ["true"], bell: false, stall_threshold_seconds: 9 },
  }, "/x.toml");
  assert.equal(r.ok, true);
});

Deno.test("globalConfigPath() uses an absolute XDG_CONFIG_HOME, else ~/.config", () => {
  const env = (m: Record<string, string>) => (k: string) => m[k];
  assert.equal(
    globalConfigPath(env({ XDG_CONFIG_HOME: "/x/cfg", HOME: "/home/u" })),
    "/x/cfg/git-paw/config.toml",
  );
  assert.equal(
    globalConfigPath(env({ XDG_CONFIG_HOME: "rel/cfg", HOME: "/home/u" })),
    "/home/u/.config/git-paw/config.toml",
  );
  assert.equal(repoConfigPath("/r"), "/r/.git-paw/config.toml");
});

Deno.test("loadConfig() merges the repo file over the global file", async () => {
  await using dir = await tempDir();
  const globalPath = join(dir.path, "global.toml");
  await Deno.writeTextFile(
    globalPath,
    `default_cli = "claude"\n[broker]\nport = 9200\nbind = "127.0.0.1"\n`,
  );
  const repo = join(dir.path, "repo");
  await Deno.mkdir(join(repo, ".git-paw"), { recursive: true });
  await Deno.writeTextFile(repoConfigPath(repo), `[broker]\nport = 9300\n`);
  const c = await loadConfig(repo, { globalPath });
  assert.equal(c.default_cli, "claude");
  assert.equal(c.broker.port, 9300);
  assert.equal(c.broker.bind, "127.0.0.1");
  // Missing files are empty.
  const d = await loadConfig(join(dir.path, "nowhere"), {
    globalPath: join(dir.path, "none.toml"),
  });
  assert.deepEqual(d, defaultConfig());
});

Deno.test("loadConfig() fails with 'Config error: <path>: <key>: …' on a bad key", async () => {
  await using dir = await tempDir();
  const repo = join(dir.path, "repo");
  await Deno.mkdir(join(repo, ".git-paw"), { recursive: true });
  await Deno.writeTextFile(repoConfigPath(repo), `[broker]\nenabeld = true\n`);
  await assert.rejects(
    () => loadConfig(repo, { globalPath: join(dir.path, "none.toml") }),
    (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.equal(
        e.message,
        `Config error: ${repoConfigPath(repo)}: broker.enabeld: unknown key`,
      );
      return true;
    },
  );
});

Deno.test("readConfigFile() reports a TOML syntax error with the path and line", async () => {
  await using dir = await tempDir();
  const p = join(dir.path, "bad.toml");
  await Deno.writeTextFile(p, `mouse = true\n[broker\nport = 1\n`);
  await assert.rejects(() => readConfigFile(p), (e: unknown) => {
    assert.ok(e instanceof AppError);
    assert.match(
      e.message,
      new RegExp(`^Config error: ${p}: invalid TOML at line 2`),
    );
    return true;
  });
});

Deno.test("writeGlobalConfig() writes atomically and round-trips", async () => {
  await using dir = await tempDir();
  const p = join(dir.path, "cfg", "git-paw", "config.toml");
  await writeGlobalConfig({
    clis: { mine: { command: "/opt/mine --x 'a b'" } },
  }, p);
  const back = await readConfigFile(p);
  assert.deepEqual(back, {
    clis: { mine: { command: "/opt/mine --x 'a b'" } },
  });
  const names = [...Deno.readDirSync(join(dir.path, "cfg", "git-paw"))].map((
    e,
  ) => e.name);
  assert.deepEqual(names, ["config.toml"]);
  await assert.rejects(
    () => writeGlobalConfig({ mouse: "yes" } as never, p),
    /Config error: .*mouse: expected boolean/,
  );
});
