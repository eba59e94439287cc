/**
 * `git paw doctor`, the pure half: the check result shape, the verdicts
 * drawn from facts the shell gathered (versions, limits, the CLIs' own
 * trust files as parsed data) and the text rendering. No I/O here.
 * @module
 */
import { profileFor } from "./cli_profiles.ts";
import { z } from "zod";

/** How one check came out; only `fail` makes `doctor` exit 1. */
export type CheckStatus = "ok" | "warn" | "fail";

/** One line of the report (the `--json` shape). */
export type Check = {
  /** Stable id, e.g. `tmux`, `cli.claude.trust`, `broker.port`. */
  id: string;
  status: CheckStatus;
  /** One line saying what was found. */
  detail: string;
  /** One line saying what to do; present for every `warn` and `fail`. */
  remedy?: string;
};

/** The whole report: `ok` is false when any check failed. */
export type DoctorReport = { ok: boolean; checks: Check[] };

/** A check; `remedy` is kept only when given. */
export function check(
  id: string,
  status: CheckStatus,
  detail: string,
  remedy?: string,
): Check {
  return remedy === undefined ? { id, status, detail } : {
    id,
    status,
    detail,
    remedy,
  };
}

/** The report of `checks`, in their order. */
export function doctorReport(checks: readonly Check[]): DoctorReport {
  return { ok: checks.every((c) => c.status !== "fail"), checks: [...checks] };
}

/** The first `major.minor[.patch]` in `text`, or null. */
function parseVersion(text: string): [number, number, number] | null {
  const m = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
function compareVersions(
  a: readonly number[],
  b: readonly number[],
): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The oldest tmux git-paw runs on (`split-window -e`). */
const MIN_TMUX: readonly [number, number] = [3, 2];

/**
 * The tmux verdict from `tmux -V` output (null: tmux is not installed).
 * A version without digits (`tmux master`) counts as new enough.
 */
export function judgeTmux(versionOutput: string | null): Check {
  if (versionOutput === null) {
    return check(
      "tmux",
      "fail",
      "tmux not found on PATH",
      "install tmux 3.2 or newer (apt install tmux / brew install tmux)",
    );
  }
  const text = versionOutput.trim();
  const v = parseVersion(text);
  if (v && compareVersions(v, MIN_TMUX) < 0) {
    return check(
      "tmux",
      "fail",
      `${text}: older than ${MIN_TMUX.join(".")}`,
      "upgrade tmux to 3.2 or newer",
    );
  }
  return check("tmux", "ok", text);
}

/** The Deno verdict: `running` against the `pinned` version. */
export function judgeDeno(running: string, pinned: string): Check {
  const v = parseVersion(running);
  if (v && v[0] < 2) {
    return check(
      "deno",
      "fail",
      `Deno ${running}; git-paw needs Deno 2 (tested on ${pinned})`,
      `install Deno ${pinned} (or run through npx -y deno@${pinned})`,
    );
  }
  if (running !== pinned) {
    return check(
      "deno",
      "warn",
      `Deno ${running}; git-paw is pinned to and tested on ${pinned}`,
      `run it with Deno ${pinned} (npx -y deno@${pinned} …) if something misbehaves`,
    );
  }
  return check("deno", "ok", `Deno ${running} (the pinned version)`);
}

/** Facts for {@link judgeInotify}. */
export type InotifyFacts = {
  /** `max_user_watches`. */
  watches: number;
  /** `max_user_instances`. */
  instances: number;
  /** Tracked files summed over the repo's worktrees (null outside a repo). */
  files: number | null;
  /** How many worktrees the repo has (at least 1). */
  worktrees: number;
};

/**
 * Inotify limits against the repo: warns when `max_user_watches` is under
 * twice the tracked files of all worktrees, or `max_user_instances` under
 * twice the worktree count (at least 32: editors and other watchers share
 * the same per-user limit).
 */
export function judgeInotify(f: InotifyFacts): Check {
  const needWatches = f.files === null ? 0 : 2 * f.files;
  const needInstances = Math.max(32, 2 * f.worktrees);
  const detail =
    `max_user_watches ${f.watches}, max_user_instances ${f.instances}` +
    (f.files === null
      ? ""
      : ` (${f.files} tracked files in ${f.worktrees} worktree${
        f.worktrees === 1 ? "" : "s"
      })`);
  const low: string[] = [];
  if (f.watches < needWatches) {
    low.push(`fs.inotify.max_user_watches=${roundUp(needWatches)}`);
  }
  if (f.instances < needInstances) {
    low.push(`fs.inotify.max_user_instances=${roundUp(needInstances)}`);
  }
  if (low.length === 0) return check("inotify", "ok", detail);
  return check(
    "inotify",
    "warn",
    `${detail}: too low, the watcher may miss changes`,
    `raise it: sudo sysctl ${low.join(" ")} (persist in /etc/sysctl.d/)`,
  );
}

function roundUp(n: number): number {
  const step = n < 1024 ? 128 : 8192;
  return Math.ceil(n / step) * step;
}

/** What git-paw writes into a worktree for one CLI. */
export type CliWrites = {
  /** An instruction file the CLI reads that brings in AGENTS.md. */
  instructions: boolean;
  /** Pre-allow rules for git-paw's own commands (or the sandbox it needs). */
  permissions: boolean;
  /** State hooks that report `needs_input` / `idle` / `working`. */
  hooks: boolean;
};

/**
 * What git-paw writes for the CLI named `name` running `argv0` (a custom
 * `[clis.x]` running `claude` counts as claude), from its profile
 * (`cli_profiles.ts`), or null when git-paw knows nothing about it beyond
 * AGENTS.md.
 */
export function cliWritesFor(name: string, argv0: string): CliWrites | null {
  const p = profileFor(name, argv0);
  if (p.name === "generic" || p.name === "demo") return null;
  const w: CliWrites = {
    instructions: p.instructions.kind !== "unknown",
    permissions: p.settings !== null || p.sandbox !== null,
    hooks: p.hookEvents.length > 0,
  };
  return w.permissions || w.hooks || p.instructions.kind === "import"
    ? w
    : null;
}

/** "instructions, permissions, hooks" (what is written), or "nothing". */
export function describeWrites(w: CliWrites | null): string {
  if (!w) return "AGENTS.md only (no profile)";
  const on = (["instructions", "permissions", "hooks"] as const).filter((k) =>
    w[k]
  );
  return on.length ? on.join(", ") : "nothing";
}

/** `dir` and every parent of it, nearest first (POSIX paths). */
function selfAndParents(dir: string): string[] {
  const out: string[] = [];
  let cur = dir.replace(/\/+$/, "") || "/";
  for (;;) {
    out.push(cur);
    if (cur === "/") return out;
    const i = cur.lastIndexOf("/");
    cur = i <= 0 ? "/" : cur.slice(0, i);
  }
}

const ClaudeJson = z.looseObject({
  projects: z.record(
    z.string(),
    z.looseObject({ hasTrustDialogAccepted: z.boolean().optional() }),
  ).optional(),
  oauthAccount: z.unknown().optional(),
  primaryApiKey: z.unknown().optional(),
});

/**
 * Whether Claude Code trusts `repo`, from its parsed `.claude.json`:
 * `projects[<repo or a parent>].hasTrustDialogAccepted`.
 */
export function claudeTrusts(claudeJson: unknown, repo: string): boolean {
  const r = ClaudeJson.safeParse(claudeJson);
  if (!r.success || !r.data.projects) return false;
  const projects = r.data.projects;
  return selfAndParents(repo).some((p) =>
    Object.hasOwn(projects, p) && projects[p]!.hasTrustDialogAccepted === true
  );
}

/** Whether a parsed `.claude.json` shows a login (`oauthAccount` or a stored key). */
export function claudeLoggedIn(claudeJson: unknown): boolean {
  const r = ClaudeJson.safeParse(claudeJson);
  return r.success &&
    (Boolean(r.data.oauthAccount) || Boolean(r.data.primaryApiKey));
}

const CodexConfig = z.looseObject({
  projects: z.record(
    z.string(),
    z.looseObject({ trust_level: z.string().optional() }),
  ).optional(),
  model_provider: z.string().optional(),
  model_providers: z.record(
    z.string(),
    z.looseObject({ env_key: z.string().optional() }),
  ).optional(),
});

/** Codex's trust level of `repo` from its parsed `config.toml`, or null. */
export function codexTrustLevel(config: unknown, repo: string): string | null {
  const r = CodexConfig.safeParse(config);
  const p = r.success ? r.data.projects : undefined;
  if (!p || !Object.hasOwn(p, repo)) return null;
  return p[repo]!.trust_level ?? null;
}

/** The env var named by the selected custom model provider's `env_key`, or null. */
export function codexProviderKeyVar(config: unknown): string | null {
  const r = CodexConfig.safeParse(config);
  if (!r.success) return null;
  const name = r.data.model_provider;
  const providers = r.data.model_providers;
  if (!name || !providers || !Object.hasOwn(providers, name)) return null;
  return providers[name]!.env_key ?? null;
}

const GeminiFolders = z.record(z.string(), z.string());

/**
 * Gemini's verdict on `repo` from its parsed `trustedFolders.json`: the
 * longest matching rule wins (`TRUST_FOLDER` on the path or a parent,
 * `TRUST_PARENT` on a child of a parent, `DO_NOT_TRUST`); null when no rule
 * matches.
 */
export function geminiTrust(
  folders: unknown,
  repo: string,
): "trusted" | "untrusted" | null {
  const r = GeminiFolders.safeParse(folders);
  if (!r.success) return null;
  const chain = new Set(selfAndParents(repo));
  let best: { len: number; trusted: boolean } | null = null;
  for (const [raw, rule] of Object.entries(r.data)) {
    const path = raw.replace(/\/+$/, "") || "/";
    const scope = rule === "TRUST_PARENT"
      ? (selfAndParents(path)[1] ?? "/")
      : path;
    if (!chain.has(scope)) continue;
    if (!best || scope.length > best.len) {
      best = { len: scope.length, trusted: rule !== "DO_NOT_TRUST" };
    }
  }
  return best === null ? null : best.trusted ? "trusted" : "untrusted";
}

/** Colouring for {@link renderReport}; identity functions for plain text. */
export type Paint = {
  ok: (s: string) => string;
  warn: (s: string) => string;
  fail: (s: string) => string;
  dim: (s: string) => string;
};

/** Plain-text paint (no colour). */
const PLAIN: Paint = {
  ok: (s) => s,
  warn: (s) => s,
  fail: (s) => s,
  dim: (s) => s,
};

const LABEL: Record<CheckStatus, string> = {
  ok: "ok  ",
  warn: "warn",
  fail: "FAIL",
};

/** The human report: one line per check, its remedy under it, a summary. */
export function renderReport(
  report: DoctorReport,
  paint: Paint = PLAIN,
): string[] {
  const width = Math.max(...report.checks.map((c) => c.id.length), 0);
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(
      `${paint[c.status](LABEL[c.status])}  ${c.id.padEnd(width)}  ${c.detail}`,
    );
    if (c.remedy) {
      lines.push(`${" ".repeat(width + 8)}${paint.dim(`→ ${c.remedy}`)}`);
    }
  }
  const fails = report.checks.filter((c) => c.status === "fail").length;
  const warns = report.checks.filter((c) => c.status === "warn").length;
  lines.push("");
  lines.push(
    fails === 0
      ? paint.ok(
        `All required checks passed${
          warns ? ` (${warns} warning${warns === 1 ? "" : "s"})` : ""
        }.`,
      )
      : paint.fail(
        `${fails} check${fails === 1 ? "" : "s"} failed${
          warns ? `, ${warns} warning${warns === 1 ? "" : "s"}` : ""
        }.`,
      ),
  );
  return lines;
}
