/**
 * Config schema, defaults and merge (docs/REFERENCE.md, "Configuration"). Pure: no file reading here —
 * `lib/session/config_store.ts` reads the TOML files and calls
 * {@link validateConfig} and {@link mergeConfig}.
 *
 * One schema ({@link ConfigFile}) describes a single `config.toml` (every key
 * optional, unknown keys are errors). The repo file is merged over the global
 * one key by key, nested tables included (docs/REFERENCE.md, "Deliberate differences"), then defaults fill the
 * gaps, giving a fully resolved {@link Config}.
 * @module
 */
import { z } from "zod";

// ---------------------------------------------------------------------------
// Schema of one config file
// ---------------------------------------------------------------------------

const str = z.string();
const bool = z.boolean();
const posInt = z.number().int().min(0);
const strList = z.array(z.string());

/** `[clis.NAME]`: a custom CLI, launched by its `command`. */
export const CliFile = z.strictObject({
  command: z.string().refine((s) => s.trim() !== "", "must not be blank"),
  display_name: str.optional(),
  submit_delay_ms: posInt.optional(),
  settings_path: str.optional(),
});

/** `[presets.NAME]`: a named set of branches with one CLI. */
export const PresetFile = z.strictObject({
  branches: z.array(z.string()).min(1, "must list at least one branch"),
  cli: z.string().refine((s) => s.trim() !== "", "must not be blank"),
});

const SpecsFile = z.strictObject({
  dir: str.optional(),
  type: z.enum(["openspec", "markdown", "speckit"]).optional(),
});

const DashboardFile = z.strictObject({
  show_message_log: bool.optional(),
  broker_log: z.strictObject({
    max_messages: z.number().int().min(1).optional(),
    default_visible: bool.optional(),
  }).optional(),
});

const BrokerFile = z.strictObject({
  enabled: bool.optional(),
  port: z.number().int().min(0).max(65535).optional(),
  bind: z.string().min(1).optional(),
  watcher: z.strictObject({
    republish_working_ttl_seconds: posInt.optional(),
  }).optional(),
  conflicts: z.strictObject({ enabled: bool.optional() }).optional(),
  learnings: z.strictObject({ enabled: bool.optional() }).optional(),
});

const SupervisorFile = z.strictObject({
  enabled: bool.optional(),
  cli: str.optional(),
  test_command: str.optional(),
  lint_command: str.optional(),
  build_command: str.optional(),
  doc_build_command: str.optional(),
  doc_tool_command: str.optional(),
  spec_validate_command: str.optional(),
  fmt_check_command: str.optional(),
  security_audit_command: str.optional(),
  agent_approval: z.enum(["manual", "auto", "full-auto"]).optional(),
  learnings: bool.optional(),
  verify_on_commit_nudge: bool.optional(),
  strict_branch_guard: bool.optional(),
  manual_approvals_log: bool.optional(),
  auto_revert: bool.optional(),
  auto_approve: z.strictObject({
    enabled: bool.optional(),
    safe_commands: strList.optional(),
    stall_threshold_seconds: posInt.optional(),
    approval_level: z.enum(["off", "conservative", "safe"]).optional(),
    approve_worktree_writes: bool.optional(),
  }).optional(),
  conflict: z.strictObject({
    window_seconds: posInt.optional(),
    warn_on_intent_overlap: bool.optional(),
    escalate_on_violation: bool.optional(),
  }).optional(),
  learnings_config: z.strictObject({
    flush_interval_seconds: z.number().int().min(1).optional(),
    broker_publish: z.enum(["auto", "force_off"]).optional(),
  }).optional(),
  common_dev_allowlist: z.strictObject({
    enabled: bool.optional(),
    extra: strList.optional(),
  }).optional(),
  tell: z.strictObject({
    mode: z.enum(["feedback", "send-keys"]).optional(),
    inventory_max_age_seconds: posInt.optional(),
  }).optional(),
});

const GovernanceFile = z.strictObject({
  adr: str.optional(),
  test_strategy: str.optional(),
  security: str.optional(),
  dod: str.optional(),
  constitution: str.optional(),
  readme: str.optional(),
  docs: str.optional(),
});

const NotifyFile = z.strictObject({
  command: z.array(z.string()).min(1, "must name a program").optional(),
  bell: bool.optional(),
  stall_threshold_seconds: z.number().int().min(1).optional(),
});

/**
 * Schema of ONE config file (global or repo). Every key is optional; an
 * unknown key anywhere is an error naming it.
 */
export const ConfigFile = z.strictObject({
  default_cli: str.optional(),
  default_spec_cli: str.optional(),
  branch_prefix: str.optional(),
  mouse: bool.optional(),
  worktree_placement: z.enum(["sibling", "child"]).optional(),
  clis: z.record(z.string(), CliFile).optional(),
  presets: z.record(z.string(), PresetFile).optional(),
  specs: SpecsFile.optional(),
  logging: z.strictObject({ enabled: bool.optional() }).optional(),
  dashboard: DashboardFile.optional(),
  broker: BrokerFile.optional(),
  supervisor: SupervisorFile.optional(),
  governance: GovernanceFile.optional(),
  layout: z.strictObject({ border_affordances: bool.optional() }).optional(),
  opsx: z.strictObject({ role_gating: z.enum(["warn", "block", "off"]) })
    .partial().optional(),
  mcp: z.strictObject({ name: str.optional() }).optional(),
  notify: NotifyFile.optional(),
});
/** The parsed content of one config file (all keys optional). */
export type ConfigFile = z.infer<typeof ConfigFile>;

// ---------------------------------------------------------------------------
// Resolved config
// ---------------------------------------------------------------------------

/** A custom CLI with defaults applied. */
export type CliConfig = {
  command: string;
  display_name: string | null;
  submit_delay_ms: number;
  settings_path: string | null;
};

/** A preset: branches and the CLI they all use. */
export type PresetConfig = { branches: string[]; cli: string };

/** `[supervisor.auto_approve]` resolved. */
export type AutoApproveConfig = {
  enabled: boolean;
  safe_commands: string[];
  stall_threshold_seconds: number;
  approval_level: "off" | "conservative" | "safe";
  approve_worktree_writes: boolean;
};

/** Merged, validated configuration with every default applied. */
export type Config = {
  default_cli: string | null;
  default_spec_cli: string | null;
  branch_prefix: string;
  mouse: boolean;
  /** `sibling` = `<parent>/<project>-<branch>`; `child` = `<repo>/.git-paw/worktrees/<slug>`. */
  worktree_placement: "sibling" | "child";
  clis: Record<string, CliConfig>;
  presets: Record<string, PresetConfig>;
  /** `null` when no file has a `[specs]` table (auto-detection may apply). */
  specs: { dir: string; type: "openspec" | "markdown" | "speckit" } | null;
  logging: { enabled: boolean };
  dashboard: {
    show_message_log: boolean;
    broker_log: { max_messages: number; default_visible: boolean };
  };
  broker: {
    enabled: boolean;
    port: number;
    bind: string;
    watcher: { republish_working_ttl_seconds: number };
    conflicts: { enabled: boolean };
    learnings: { enabled: boolean };
  };
  supervisor: {
    /** True when some file has a `[supervisor]` table (docs/REFERENCE.md, "Configuration"). */
    configured: boolean;
    enabled: boolean;
    cli: string | null;
    test_command: string | null;
    lint_command: string | null;
    build_command: string | null;
    doc_build_command: string | null;
    doc_tool_command: string | null;
    spec_validate_command: string | null;
    fmt_check_command: string | null;
    security_audit_command: string | null;
    agent_approval: "manual" | "auto" | "full-auto";
    learnings: boolean;
    verify_on_commit_nudge: boolean;
    strict_branch_guard: boolean;
    manual_approvals_log: boolean;
    auto_revert: boolean;
    /** `null` when absent: absent means no auto-approve. */
    auto_approve: AutoApproveConfig | null;
    conflict: {
      window_seconds: number;
      warn_on_intent_overlap: boolean;
      escalate_on_violation: boolean;
    };
    learnings_config: {
      flush_interval_seconds: number;
      broker_publish: "auto" | "force_off";
    };
    common_dev_allowlist: { enabled: boolean; extra: string[] };
    tell: {
      mode: "feedback" | "send-keys";
      inventory_max_age_seconds: number;
    };
  };
  governance: {
    adr: string | null;
    test_strategy: string | null;
    security: string | null;
    dod: string | null;
    constitution: string | null;
    readme: string | null;
    docs: string | null;
  };
  layout: { border_affordances: boolean };
  opsx: { role_gating: "warn" | "block" | "off" };
  mcp: { name: string };
  notify: {
    /** argv run on notable events; `null` = none. */
    command: string[] | null;
    bell: boolean;
    stall_threshold_seconds: number;
  };
};

/** Default broker port. */
export const DEFAULT_BROKER_PORT = 9119;
/** Default `submit_delay_ms` for a CLI. */
export const DEFAULT_SUBMIT_DELAY_MS = 1500;

/** The configuration used when no file sets anything. */
export function defaultConfig(): Config {
  return resolve({}, () => {});
}

// ---------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------

/** Result of {@link validateConfig}. */
export type ValidateResult =
  | { ok: true; value: ConfigFile }
  | { ok: false; error: string; key: string };

function keyPath(path: readonly PropertyKey[]): string {
  return path.map((p) => String(p)).join(".");
}

/**
 * Validate the parsed TOML of one file. The error reads
 * `<path>: <key>: <problem>` (e.g. `/r/.git-paw/config.toml: broker.port:
 * expected number, received string`), naming the file and the dotted key.
 *
 * @example
 * ```ts
 * import { validateConfig } from "./config.ts";
 * const r = validateConfig({ broker: { prot: 1 } }, "/x/config.toml");
 * // r = { ok: false, key: "broker.prot", error: "/x/config.toml: broker.prot: unknown key" }
 * ```
 */
export function validateConfig(raw: unknown, path: string): ValidateResult {
  const r = ConfigFile.safeParse(raw);
  if (r.success) return { ok: true, value: r.data };
  // A misspelt key usually also makes a required key "missing": name the typo.
  const issue = r.error.issues.find((i) => i.code === "unrecognized_keys") ??
    r.error.issues[0]!;
  let key = keyPath(issue.path);
  let problem: string;
  if (issue.code === "unrecognized_keys") {
    const k = issue.keys[0] ?? "";
    key = key ? `${key}.${k}` : k;
    problem = "unknown key";
  } else if (issue.code === "invalid_type") {
    const value = getAt(raw, issue.path);
    problem = value === undefined
      ? "required key is missing"
      : `expected ${issue.expected}, got ${describe(value)}`;
  } else if (issue.code === "invalid_value") {
    problem = `must be one of ${
      issue.values.map((v) => JSON.stringify(v)).join(", ")
    }`;
  } else {
    problem = issue.message.replace(/^Invalid input: /, "");
  }
  return {
    ok: false,
    key: key || "(top level)",
    error: `${path}: ${key || "(top level)"}: ${problem}`,
  };
}

function getAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "array";
  if (v instanceof Date) return "date";
  if (v === null) return "null";
  if (typeof v === "object") return "table";
  return typeof v;
}

// ---------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------

function isTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v) &&
    !(v instanceof Date);
}

/**
 * Deep merge of two config files: tables merge key by key at every depth,
 * `over` wins for scalars and arrays. Inputs are not modified.
 */
export function mergeConfigFiles(
  base: ConfigFile,
  over: ConfigFile,
): ConfigFile {
  return deepMerge(base, over) as ConfigFile;
}

function deepMerge(a: unknown, b: unknown): unknown {
  if (b === undefined) return structuredClone(a);
  if (isTable(a) && isTable(b)) {
    const out: Record<string, unknown> = {};
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
      out[k] = deepMerge(a[k], b[k]);
    }
    return out;
  }
  return structuredClone(b);
}

/** Options for {@link mergeConfig}. */
export type MergeOptions = {
  /** Called with each non-fatal adjustment (e.g. a clamped value). */
  onWarning?: (message: string) => void;
};

/**
 * Merge the repo file over the global file KEY BY KEY (nested tables too:
 * a repo `[supervisor] cli = "x"` keeps every other global supervisor key),
 * then apply defaults.
 *
 * @example
 * ```ts
 * import { mergeConfig } from "./config.ts";
 * const c = mergeConfig({ broker: { port: 9200, bind: "127.0.0.1" } }, { broker: { port: 9300 } });
 * // c.broker.port === 9300, c.broker.bind === "127.0.0.1", c.broker.enabled === true
 * ```
 */
export function mergeConfig(
  global: ConfigFile,
  repo: ConfigFile,
  opts: MergeOptions = {},
): Config {
  return resolve(mergeConfigFiles(global, repo), opts.onWarning ?? (() => {}));
}

function resolve(f: ConfigFile, warn: (m: string) => void): Config {
  const clis: Record<string, CliConfig> = {};
  for (const [name, c] of Object.entries(f.clis ?? {})) {
    clis[name] = {
      command: c.command,
      display_name: c.display_name ?? null,
      submit_delay_ms: c.submit_delay_ms ?? DEFAULT_SUBMIT_DELAY_MS,
      settings_path: c.settings_path ?? null,
    };
  }
  const presets: Record<string, PresetConfig> = {};
  for (const [name, p] of Object.entries(f.presets ?? {})) {
    presets[name] = { branches: [...p.branches], cli: p.cli };
  }

  let ttl = f.broker?.watcher?.republish_working_ttl_seconds ?? 60;
  if (ttl > 0 && ttl < 5) {
    warn(
      `[broker.watcher] republish_working_ttl_seconds = ${ttl} is below the minimum; using 5`,
    );
    ttl = 5;
  }

  const s = f.supervisor ?? {};
  let autoApprove: AutoApproveConfig | null = null;
  if (s.auto_approve !== undefined) {
    const a = s.auto_approve;
    let stall = a.stall_threshold_seconds ?? 30;
    if (stall < 5) {
      warn(
        `[supervisor.auto_approve] stall_threshold_seconds = ${stall} is below the minimum; using 5`,
      );
      stall = 5;
    }
    autoApprove = {
      enabled: a.enabled ?? true,
      safe_commands: [...(a.safe_commands ?? [])],
      stall_threshold_seconds: stall,
      approval_level: a.approval_level ?? "safe",
      approve_worktree_writes: a.approve_worktree_writes ?? true,
    };
  }
  const g = f.governance ?? {};

  return {
    default_cli: f.default_cli ?? null,
    default_spec_cli: f.default_spec_cli ?? null,
    branch_prefix: f.branch_prefix ?? "spec/",
    mouse: f.mouse ?? true,
    worktree_placement: f.worktree_placement ?? "sibling",
    clis,
    presets,
    specs: f.specs === undefined
      ? null
      : { dir: f.specs.dir ?? "specs", type: f.specs.type ?? "openspec" },
    logging: { enabled: f.logging?.enabled ?? false },
    dashboard: {
      show_message_log: f.dashboard?.show_message_log ?? false,
      broker_log: {
        max_messages: f.dashboard?.broker_log?.max_messages ?? 500,
        default_visible: f.dashboard?.broker_log?.default_visible ?? true,
      },
    },
    broker: {
      enabled: f.broker?.enabled ?? true,
      port: f.broker?.port ?? DEFAULT_BROKER_PORT,
      bind: f.broker?.bind ?? "127.0.0.1",
      watcher: { republish_working_ttl_seconds: ttl },
      conflicts: { enabled: f.broker?.conflicts?.enabled ?? true },
      learnings: { enabled: f.broker?.learnings?.enabled ?? false },
    },
    supervisor: {
      configured: f.supervisor !== undefined,
      enabled: s.enabled ?? false,
      cli: s.cli ?? null,
      test_command: s.test_command ?? null,
      lint_command: s.lint_command ?? null,
      build_command: s.build_command ?? null,
      doc_build_command: s.doc_build_command ?? null,
      doc_tool_command: s.doc_tool_command ?? null,
      spec_validate_command: s.spec_validate_command ?? null,
      fmt_check_command: s.fmt_check_command ?? null,
      security_audit_command: s.security_audit_command ?? null,
      agent_approval: s.agent_approval ?? "auto",
      learnings: s.learnings ?? false,
      verify_on_commit_nudge: s.verify_on_commit_nudge ?? true,
      strict_branch_guard: s.strict_branch_guard ?? true,
      manual_approvals_log: s.manual_approvals_log ?? true,
      auto_revert: s.auto_revert ?? false,
      auto_approve: autoApprove,
      conflict: {
        window_seconds: s.conflict?.window_seconds ?? 120,
        warn_on_intent_overlap: s.conflict?.warn_on_intent_overlap ?? true,
        escalate_on_violation: s.conflict?.escalate_on_violation ?? true,
      },
      learnings_config: {
        flush_interval_seconds: s.learnings_config?.flush_interval_seconds ??
          60,
        broker_publish: s.learnings_config?.broker_publish ?? "auto",
      },
      common_dev_allowlist: {
        enabled: s.common_dev_allowlist?.enabled ?? true,
        extra: [...(s.common_dev_allowlist?.extra ?? [])],
      },
      tell: {
        mode: s.tell?.mode ?? "feedback",
        inventory_max_age_seconds: s.tell?.inventory_max_age_seconds ?? 60,
      },
    },
    governance: {
      adr: g.adr ?? null,
      test_strategy: g.test_strategy ?? null,
      security: g.security ?? null,
      dod: g.dod ?? null,
      constitution: g.constitution ?? null,
      readme: g.readme ?? null,
      docs: g.docs ?? null,
    },
    layout: { border_affordances: f.layout?.border_affordances ?? true },
    opsx: { role_gating: f.opsx?.role_gating ?? "warn" },
    mcp: { name: f.mcp?.name ?? "git-paw" },
    notify: {
      command: f.notify?.command ? [...f.notify.command] : null,
      bell: f.notify?.bell ?? true,
      stall_threshold_seconds: f.notify?.stall_threshold_seconds ?? 300,
    },
  };
}

/** `http://<bind>:<port>` for a resolved config (IPv6 binds bracketed). */
export function brokerUrl(config: Config, port = config.broker.port): string {
  const host = config.broker.bind.includes(":")
    ? `[${config.broker.bind}]`
    : config.broker.bind;
  return `http://${host}:${port}`;
}
