/**
 * `git paw doctor [--json]`: a preflight of everything `start` relies on —
 * git and the repo, tmux ≥ 3.2, Deno, each detected AI CLI (version, what
 * git-paw writes for it, credentials, trust of this repo, a leftover Codex
 * daemon), the broker port, inotify limits and the config files. Each check
 * is a function of {@link DoctorDeps} (environment, file reader, runner), so
 * tests give it a temp HOME, a temp PATH and seeded files. Verdicts and
 * rendering are pure (lib/core/doctor.ts). Secrets are only ever reported as
 * present or missing, by variable or file name.
 *
 * Needs `--allow-run` (git, tmux, the CLIs), `--allow-read`, `--allow-env`,
 * `--allow-net=127.0.0.1` (broker port).
 * @module
 */
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import {
  type Check,
  check,
  claudeLoggedIn,
  claudeTrusts,
  cliWritesFor,
  codexProviderKeyVar,
  codexTrustLevel,
  describeWrites,
  type DoctorReport,
  doctorReport,
  geminiTrust,
  judgeDeno,
  judgeInotify,
  judgeTmux,
  type Paint,
  renderReport,
} from "../core/doctor.ts";
import { type Config, defaultConfig } from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import { brokerUrlOf, type Receipt } from "../core/session.ts";
import { readTextOrNull, statOrNull } from "../adapters/fs.ts";
import { tryRepoRoot, worktreeList } from "../adapters/git.ts";
import { gitTry } from "../adapters/git_run.ts";
import { run, type RunResult } from "../adapters/runner.ts";
import { probeBroker, type ProbeResult } from "../broker/probe.ts";
import { PINNED_DENO_VERSION } from "../version.ts";
import { printJson, println, style } from "../output.ts";
import { type CliEntry, detectClis, which } from "./clis.ts";
import {
  type EnvGetter,
  globalConfigPath,
  loadConfig,
  readConfigFile,
  repoConfigPath,
} from "./config_store.ts";
import { findReceiptForRepo } from "./receipt.ts";

/** How long a CLI may take to answer `--version`. */
const VERSION_TIMEOUT_MS = 5000;

/** Everything the checks read from the world. */
export type DoctorDeps = {
  /** Directory the command runs in. */
  cwd: string;
  /** Environment variables (PATH, HOME, credentials, config dirs). */
  env: EnvGetter;
  /**
   * Run a program with an argv array and a time limit.
   * @throws {AppError} `missing_binary` when it is not installed.
   */
  run: (cmd: string, args: string[], timeoutMs: number) => Promise<RunResult>;
  /** A file's text, or null when it does not exist. */
  readText: (path: string) => Promise<string | null>;
  /** The running Deno version (`Deno.version.deno`). */
  denoVersion: string;
  /** Where `sys/fs/inotify` and `<pid>` entries live (`/proc`). */
  procDir: string;
  /** Time limit of `<cli> --version` (default {@link VERSION_TIMEOUT_MS}). */
  versionTimeoutMs?: number;
  /** Directories searched for CLIs after `$PATH` (see `detectClis`). */
  systemDirs?: readonly string[];
  /** This repo's session receipt, if any. */
  findReceipt: (repo: string) => Promise<Receipt | null>;
  /** What answers on a broker URL. */
  probe: (
    url: string,
    session: string,
    token: string | undefined,
  ) => Promise<ProbeResult>;
};

/** {@link DoctorDeps} of this process. */
export function defaultDoctorDeps(): DoctorDeps {
  return {
    cwd: Deno.cwd(),
    env: (k) => Deno.env.get(k),
    run: runWithTimeout,
    readText: readTextOrNull,
    denoVersion: Deno.version.deno,
    procDir: "/proc",
    findReceipt: findReceiptForRepo,
    probe: (url, session, token) =>
      probeBroker(url, session, token ? { token } : {}),
  };
}

async function runWithTimeout(
  cmd: string,
  args: string[],
  timeoutMs: number,
): Promise<RunResult> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    return await run(cmd, args, { signal: ac.signal });
  } finally {
    clearTimeout(timer);
  }
}

function isMissing(e: unknown): boolean {
  return e instanceof AppError && e.code === "missing_binary";
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0]?.trim() ?? "";
}

function homeOf(deps: DoctorDeps): string | null {
  return deps.env("HOME") ?? deps.env("USERPROFILE") ?? null;
}

/** Parsed JSON of a file, null when missing or not JSON. */
async function readJson(deps: DoctorDeps, path: string): Promise<unknown> {
  const text = await deps.readText(path).catch(() => null);
  if (text === null) return null;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Parsed TOML of a file, null when missing or not TOML. */
async function readToml(deps: DoctorDeps, path: string): Promise<unknown> {
  const text = await deps.readText(path).catch(() => null);
  if (text === null) return null;
  try {
    return parseToml(text);
  } catch {
    return null;
  }
}

/** `git --version`. */
async function checkGit(deps: DoctorDeps): Promise<Check> {
  try {
    const r = await deps.run("git", ["--version"], VERSION_TIMEOUT_MS);
    if (r.code !== 0) {
      return check(
        "git",
        "fail",
        `git --version exited ${r.code}: ${firstLine(r.stderr)}`,
        "reinstall git",
      );
    }
    return check("git", "ok", firstLine(r.stdout));
  } catch (e) {
    if (!isMissing(e)) throw e;
    return check(
      "git",
      "fail",
      "git not found on PATH",
      "install git (apt install git / brew install git)",
    );
  }
}

/** What {@link checkRepo} found, for the checks that need the repo. */
export type RepoFacts = {
  /** The main worktree's root, or null outside a repo. */
  root: string | null;
  /** Tracked files in each worktree (null outside a repo). */
  trackedFiles: number | null;
  /** Worktrees of the repo (main plus linked; 1 outside a repo). */
  worktrees: number;
};

/** Inside a git repo with at least one commit? */
async function checkRepo(
  deps: DoctorDeps,
): Promise<{ check: Check; facts: RepoFacts }> {
  const none: RepoFacts = { root: null, trackedFiles: null, worktrees: 1 };
  let root: string | null;
  try {
    root = await tryRepoRoot(deps.cwd);
  } catch (e) {
    if (!isMissing(e)) throw e;
    return {
      check: check(
        "repo",
        "warn",
        "not checked: git is missing",
        "install git, then run doctor inside your project",
      ),
      facts: none,
    };
  }
  if (root === null) {
    return {
      check: check(
        "repo",
        "warn",
        `${deps.cwd} is not inside a git repository`,
        "run `git paw start` (and doctor) inside a git repository with at least one commit",
      ),
      facts: none,
    };
  }
  const head = await gitTry(root, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  if (head.code !== 0) {
    return {
      check: check(
        "repo",
        "fail",
        `${root} has no commits yet`,
        "make a first commit: `git paw start` branches worktrees from it",
      ),
      facts: { root, trackedFiles: 0, worktrees: 1 },
    };
  }
  const files = await gitTry(root, ["ls-files", "-z"]);
  const tracked = files.code === 0
    ? files.stdout.split("\0").filter((f) => f !== "").length
    : 0;
  const worktrees = (await worktreeList(root).catch(() => [])).length || 1;
  return {
    check: check(
      "repo",
      "ok",
      `${root} (${tracked} tracked files, ${worktrees} worktree${
        worktrees === 1 ? "" : "s"
      })`,
    ),
    facts: { root, trackedFiles: tracked, worktrees },
  };
}

/** tmux present and ≥ 3.2. */
async function checkTmux(deps: DoctorDeps): Promise<Check> {
  try {
    const r = await deps.run("tmux", ["-V"], VERSION_TIMEOUT_MS);
    return judgeTmux(r.stdout || r.stderr);
  } catch (e) {
    if (!isMissing(e)) throw e;
    return judgeTmux(null);
  }
}

/** The running Deno against the pinned one. */
function checkDeno(deps: DoctorDeps): Check {
  return judgeDeno(deps.denoVersion, PINNED_DENO_VERSION);
}

/** The config files parse (global, then the repo's). */
async function checkConfigFiles(
  deps: DoctorDeps,
  repo: string | null,
): Promise<Check[]> {
  const out: Check[] = [];
  let globalPath: string | null = null;
  try {
    globalPath = globalConfigPath(deps.env);
  } catch (e) {
    out.push(
      check(
        "config.global",
        "warn",
        (e as Error).message,
        "set HOME (or XDG_CONFIG_HOME)",
      ),
    );
  }
  const files: Array<[string, string]> = [];
  if (globalPath) files.push(["config.global", globalPath]);
  if (repo) files.push(["config.repo", repoConfigPath(repo)]);
  for (const [id, path] of files) {
    const exists = (await deps.readText(path).catch(() => "")) !== null;
    if (!exists) {
      out.push(check(id, "ok", `${path}: none (defaults apply)`));
      continue;
    }
    try {
      await readConfigFile(path);
      out.push(check(id, "ok", `${path} parses`));
    } catch (e) {
      out.push(
        check(
          id,
          "fail",
          (e as Error).message.replace(/^Config error: /, ""),
          `fix or remove ${path}`,
        ),
      );
    }
  }
  return out;
}

/** The merged config, or the defaults when a file does not parse. */
async function configOf(
  deps: DoctorDeps,
  repo: string | null,
): Promise<Config> {
  try {
    return await loadConfig(repo, {
      globalPath: globalConfigPath(deps.env),
      onWarning: () => {},
    });
  } catch {
    return defaultConfig();
  }
}

/** Is `[broker] port` free, ours, or held by something else? */
export async function checkBrokerPort(
  deps: DoctorDeps,
  config: Config,
  repo: string | null,
): Promise<Check> {
  const { bind, port, enabled } = config.broker;
  if (!enabled) return check("broker.port", "ok", "broker disabled in config");
  if (port === 0) {
    return check("broker.port", "ok", "[broker] port = 0: any free port");
  }
  const url = brokerUrlOf(bind, port);
  if (canListen(bind, port)) return check("broker.port", "ok", `${url} free`);
  const receipt = repo ? await deps.findReceipt(repo).catch(() => null) : null;
  // With no session of this repo, no broker there can be ours.
  const session = receipt?.session_name ?? "\u0000no-session";
  const st = await deps.probe(url, session, receipt?.broker_token);
  if (st === "free") return check("broker.port", "ok", `${url} free`);
  if (st === "ours") {
    return check(
      "broker.port",
      "ok",
      `${url} held by this repo's session '${receipt?.session_name}'`,
    );
  }
  const who = st === "other-session"
    ? "another git-paw session's broker"
    : st === "foreign"
    ? "another program"
    : "a process that does not answer HTTP";
  return check(
    "broker.port",
    "fail",
    `${url} is held by ${who}`,
    "set `[broker] port` in .git-paw/config.toml to a free port (or 0 for any), or stop what holds it",
  );
}

function canListen(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Inotify limits against the repo's files (skipped where /proc has none). */
export async function checkInotify(
  deps: DoctorDeps,
  facts: RepoFacts,
): Promise<Check> {
  const dir = join(deps.procDir, "sys", "fs", "inotify");
  const [w, i] = await Promise.all([
    deps.readText(join(dir, "max_user_watches")).catch(() => null),
    deps.readText(join(dir, "max_user_instances")).catch(() => null),
  ]);
  const watches = Number(w?.trim()), instances = Number(i?.trim());
  if (w === null || i === null || !Number.isFinite(watches + instances)) {
    return check("inotify", "ok", `skipped: no ${dir} (not Linux)`);
  }
  return judgeInotify({
    watches,
    instances,
    files: facts.trackedFiles === null
      ? null
      : facts.trackedFiles * facts.worktrees,
    worktrees: facts.worktrees,
  });
}

/** `<cli> --version`, and what git-paw writes for it. */
export async function checkCliVersion(
  deps: DoctorDeps,
  cli: CliEntry,
): Promise<Check> {
  const id = `cli.${cli.name}`;
  const writes = `git-paw writes: ${
    describeWrites(cliWritesFor(cli.name, cli.path))
  }`;
  const limit = deps.versionTimeoutMs ?? VERSION_TIMEOUT_MS;
  try {
    const r = await deps.run(cli.path, ["--version"], limit);
    const v = firstLine(r.stdout) || firstLine(r.stderr);
    if (r.code === 0 && v) {
      return check(id, "ok", `${v} at ${cli.path}; ${writes}`);
    }
    return check(
      id,
      "warn",
      `${cli.path} --version exited ${r.code}${v ? `: ${v}` : ""}; ${writes}`,
      `check that \`${cli.name}\` runs on its own (reinstall it if not)`,
    );
  } catch (e) {
    return check(
      id,
      "warn",
      `${cli.path} gave no version within ${limit / 1000} s (${
        (e as Error).message
      }); ${writes}`,
      `check that \`${cli.name}\` runs on its own (reinstall it if not)`,
    );
  }
}

/** Which known CLI a detected entry is (by name, else by its program). */
function kindOf(cli: CliEntry): string {
  const prog = (cli.path.split("/").pop() ?? "").replace(/\.exe$/, "");
  return ["claude", "codex", "gemini"].includes(cli.name) ? cli.name : prog;
}

function firstSet(deps: DoctorDeps, names: readonly string[]): string | null {
  return names.find((n) => (deps.env(n) ?? "") !== "") ?? null;
}

async function firstFile(
  deps: DoctorDeps,
  paths: readonly string[],
): Promise<string | null> {
  for (const p of paths) {
    if ((await deps.readText(p).catch(() => null)) !== null) return p;
  }
  return null;
}

function credentials(
  id: string,
  found: string | null,
  looked: string,
  remedy: string,
): Check {
  return found
    ? check(id, "ok", `present (${found})`)
    : check(id, "warn", `missing (looked for ${looked})`, remedy);
}

function claudeDir(deps: DoctorDeps, home: string | null): string | null {
  return deps.env("CLAUDE_CONFIG_DIR") ??
    (home ? join(home, ".claude") : null);
}

/** `.claude.json`: in `$CLAUDE_CONFIG_DIR`, else `~/.claude.json`. */
function claudeJsonPath(deps: DoctorDeps, home: string | null): string | null {
  const dir = deps.env("CLAUDE_CONFIG_DIR");
  if (dir) return join(dir, ".claude.json");
  return home ? join(home, ".claude.json") : null;
}

function codexHome(deps: DoctorDeps, home: string | null): string | null {
  return deps.env("CODEX_HOME") ?? (home ? join(home, ".codex") : null);
}

function geminiDir(deps: DoctorDeps, home: string | null): string | null {
  const base = deps.env("GEMINI_CLI_HOME") ?? home;
  return base ? join(base, ".gemini") : null;
}

const CLAUDE_ENV = [
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_AUTH_TOKEN",
  "CLAUDE_CODE_OAUTH_TOKEN",
];
const CODEX_ENV = ["OPENAI_API_KEY", "CODEX_API_KEY", "CODEX_ACCESS_TOKEN"];
const GEMINI_ENV = ["GEMINI_API_KEY", "GOOGLE_API_KEY"];

/** Credentials for one CLI: env var names, or a login file. Null: unknown CLI. */
export async function checkCliCredentials(
  deps: DoctorDeps,
  cli: CliEntry,
): Promise<Check | null> {
  const id = `cli.${cli.name}.credentials`;
  const home = homeOf(deps);
  switch (kindOf(cli)) {
    case "claude": {
      const env = firstSet(deps, CLAUDE_ENV);
      if (env) return credentials(id, env, "", "");
      const dir = claudeDir(deps, home);
      const file = dir
        ? await firstFile(deps, [join(dir, ".credentials.json")])
        : null;
      const jsonPath = claudeJsonPath(deps, home);
      const login = file ??
        (jsonPath && claudeLoggedIn(await readJson(deps, jsonPath))
          ? jsonPath
          : null);
      return credentials(
        id,
        login ? `login in ${login}` : null,
        `${CLAUDE_ENV.join(", ")} or a Claude login`,
        "set ANTHROPIC_API_KEY, or run `claude` once and log in",
      );
    }
    case "codex": {
      const ch = codexHome(deps, home);
      const keyVar = ch
        ? codexProviderKeyVar(await readToml(deps, join(ch, "config.toml")))
        : null;
      const names = keyVar ? [...CODEX_ENV, keyVar] : CODEX_ENV;
      const env = firstSet(deps, names);
      if (env) return credentials(id, env, "", "");
      const file = ch ? await firstFile(deps, [join(ch, "auth.json")]) : null;
      return credentials(
        id,
        file ? `login in ${file}` : null,
        `${names.join(", ")} or ${
          ch ? join(ch, "auth.json") : "$CODEX_HOME/auth.json"
        }`,
        "set OPENAI_API_KEY, or run `codex login`",
      );
    }
    case "gemini": {
      const env = firstSet(deps, GEMINI_ENV);
      if (env) return credentials(id, env, "", "");
      const gd = geminiDir(deps, home);
      const file = gd
        ? await firstFile(deps, [join(gd, "oauth_creds.json")])
        : null;
      return credentials(
        id,
        file ? `login in ${file}` : null,
        `${GEMINI_ENV.join(", ")} or ~/.gemini/oauth_creds.json`,
        "set GEMINI_API_KEY, or run `gemini` once and sign in with Google",
      );
    }
    default:
      return null;
  }
}

/** Whether the CLI trusts this repo (so its worktrees ask no trust question). */
export async function checkCliTrust(
  deps: DoctorDeps,
  cli: CliEntry,
  repo: string,
): Promise<Check | null> {
  const id = `cli.${cli.name}.trust`;
  const home = homeOf(deps);
  switch (kindOf(cli)) {
    case "claude": {
      const path = claudeJsonPath(deps, home);
      if (path && claudeTrusts(await readJson(deps, path), repo)) {
        return check(id, "ok", `${repo} trusted (${path})`);
      }
      return check(
        id,
        "warn",
        `${repo} not trusted${path ? ` in ${path}` : ""}: Claude asks once`,
        `run \`claude\` in ${repo} once and choose "Yes, I trust this folder"`,
      );
    }
    case "codex": {
      const ch = codexHome(deps, home);
      const path = ch ? join(ch, "config.toml") : null;
      const level = path
        ? codexTrustLevel(await readToml(deps, path), repo)
        : null;
      if (level === "trusted") {
        return check(id, "ok", `${repo} trusted (${path})`);
      }
      return check(
        id,
        "warn",
        `${repo} ${level ? `has trust_level "${level}"` : "not trusted"}${
          path ? ` in ${path}` : ""
        }: Codex asks once`,
        `run \`codex\` in ${repo} once and choose "Trust and continue"`,
      );
    }
    case "gemini": {
      const gd = geminiDir(deps, home);
      const path = deps.env("GEMINI_CLI_TRUSTED_FOLDERS_PATH") ??
        (gd ? join(gd, "trustedFolders.json") : null);
      const verdict = path
        ? geminiTrust(await readJson(deps, path), repo)
        : null;
      if (verdict === "trusted") {
        return check(id, "ok", `${repo} trusted (${path})`);
      }
      return check(
        id,
        "warn",
        `${repo} ${
          verdict === "untrusted" ? "marked untrusted" : "not trusted"
        }${path ? ` in ${path}` : ""}: Gemini asks in each new worktree`,
        `run \`gemini\` in ${repo} once and choose "Trust folder"`,
      );
    }
    default:
      return null;
  }
}

/** A pid from a pid file: a bare number, or JSON `{"pid": N}`. */
function pidIn(text: string): number | null {
  const t = text.trim();
  if (/^\d+$/.test(t)) return Number(t);
  try {
    const pid = (JSON.parse(t) as { pid?: unknown }).pid;
    return typeof pid === "number" && Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

/** A Codex app-server daemon left running (docs/clis/codex.md, "Daemon"). */
export async function checkCodexDaemon(deps: DoctorDeps): Promise<Check> {
  const id = "cli.codex.daemon";
  const ch = codexHome(deps, homeOf(deps));
  if (!ch) return check(id, "ok", "no CODEX_HOME or HOME: nothing to check");
  const dir = join(ch, "app-server-daemon");
  const procs = await statOrNull(deps.procDir);
  const running: string[] = [];
  for (const name of ["daemon.pid", "daemon-updater.pid"]) {
    const text = await deps.readText(join(dir, name)).catch(() => null);
    const pid = text === null ? null : pidIn(text);
    if (pid === null) continue;
    // Without /proc (macOS) the pid file is taken at its word.
    const alive = procs?.isDirectory
      ? (await statOrNull(join(deps.procDir, String(pid)))) !== null
      : true;
    if (alive) running.push(`${name.replace(".pid", "")} pid ${pid}`);
  }
  if (running.length === 0) {
    return check(id, "ok", `no app-server daemon running (${dir})`);
  }
  return check(
    id,
    "warn",
    `a shared Codex app-server daemon is running (${
      running.join(", ")
    }): panes would share its environment`,
    `CODEX_HOME=${ch} codex app-server daemon stop, then kill the pid in ${
      join(dir, "daemon-updater.pid")
    }`,
  );
}

/**
 * Codex's Linux sandbox wants `bwrap` (bubblewrap) on PATH. Without it
 * Codex falls back to a bundled copy and flags "1 warning" in every pane,
 * so doctor names the package. Other systems: no check.
 */
export function checkCodexSandbox(
  deps: Pick<DoctorDeps, "env" | "systemDirs">,
  os: string = Deno.build.os,
): Check | null {
  if (os !== "linux") return null;
  const found = which("bwrap", deps.env, deps.systemDirs ?? []);
  if (found) return check("cli.codex.sandbox", "ok", `bubblewrap at ${found}`);
  return check(
    "cli.codex.sandbox",
    "warn",
    "bubblewrap (bwrap) is not on PATH: Codex uses its bundled copy and shows a start-up warning in each pane",
    "install bubblewrap with the OS package manager (apt-get install bubblewrap)",
  );
}

/** All checks of one CLI, in a fixed order. */
async function cliChecks(
  deps: DoctorDeps,
  cli: CliEntry,
  repo: string | null,
): Promise<Check[]> {
  const [version, creds, trust, daemon] = await Promise.all([
    checkCliVersion(deps, cli),
    checkCliCredentials(deps, cli),
    repo ? checkCliTrust(deps, cli, repo) : Promise.resolve(null),
    kindOf(cli) === "codex" ? checkCodexDaemon(deps) : Promise.resolve(null),
  ]);
  const sandbox = kindOf(cli) === "codex" ? checkCodexSandbox(deps) : null;
  return [version, creds, trust, daemon, sandbox].filter((c): c is Check =>
    c !== null
  );
}

/** Run every check. */
async function runDoctor(
  deps: DoctorDeps = defaultDoctorDeps(),
): Promise<DoctorReport> {
  const [git, repoR, tmux] = await Promise.all([
    checkGit(deps),
    checkRepo(deps),
    checkTmux(deps),
  ]);
  const repo = repoR.facts.root;
  const config = await configOf(deps, repo);
  const clis = detectClis(config, {
    env: deps.env,
    onWarning: () => {},
    ...(deps.systemDirs ? { systemDirs: deps.systemDirs } : {}),
  }).filter((c) => c.source !== "builtin");
  const [configs, broker, inotify, ...perCli] = await Promise.all([
    checkConfigFiles(deps, repo),
    checkBrokerPort(deps, config, repo),
    checkInotify(deps, repoR.facts),
    ...clis.map((c) => cliChecks(deps, c, repo)),
  ]);
  const cliPart = perCli.flat();
  if (clis.length === 0) {
    cliPart.push(
      check(
        "clis",
        "warn",
        "no AI CLI found on PATH (only the built-in demo agent)",
        "install claude, codex or gemini, or register one: git paw add-cli <name> <command>",
      ),
    );
  }
  return doctorReport([
    git,
    repoR.check,
    tmux,
    checkDeno(deps),
    ...cliPart,
    broker,
    inotify,
    ...configs,
  ]);
}

function paint(): Paint {
  return {
    ok: (s) => style.green(s),
    warn: (s) => style.yellow(s),
    fail: (s) => style.red(s),
    dim: (s) => style.dim(s),
  };
}

/** Run `git paw doctor`; exit code 1 when a check fails. */
export async function doctorCommand(opts: { json?: boolean }): Promise<void> {
  const report = await runDoctor();
  if (opts.json) printJson(report);
  else for (const line of renderReport(report, paint())) println(line);
  if (!report.ok) Deno.exitCode = 1;
}
