/**
 * Config schema, defaults and merge (docs/REFERENCE.md, "Configuration"). Pure: no file reading here —
 * `lib/session/config_store.ts` reads the TOML files and calls
 * {@link validateConfig} and {@link mergeConfig}.
 *
 * One schema ({@link ConfigSchema}) holds every key with its type and
 * default: its input is a single `config.toml` ({@link ConfigFile}, every key
 * optional, unknown keys are errors), its output the resolved
 * {@link Config}. The repo file is merged over the global one key by key,
 * nested tables included (docs/REFERENCE.md, "Deliberate differences"), then parsing fills the gaps with the
 * defaults.
 * @module
 */
import { z } from "zod";

// ---------------------------------------------------------------------------
// The schema: every key, its type and its default, once
// ---------------------------------------------------------------------------

/** Default broker port. */
export const DEFAULT_BROKER_PORT = 9119;
/** Default `submit_delay_ms` for a CLI. */
export const DEFAULT_SUBMIT_DELAY_MS = 1500;
/** Lowest non-zero watcher TTL and auto-approve stall threshold (seconds). */
const MIN_SECONDS = 5;

const str = z.string();
const bool = z.boolean();
const posInt = z.number().int().min(0);
const strList = z.array(z.string());

/** An optional string that resolves to `null` when absent. */
function orNull<T extends z.ZodType>(t: T) {
  return t.optional().transform((v) => v ?? null);
}

/** A table whose keys all have defaults: absent resolves like `{}`. */
function table<S extends z.core.$ZodLooseShape>(shape: S) {
  // Every key has a default, so `{}` is a valid input.
  return z.strictObject(shape).prefault({} as never);
}

const nonBlank = z.string().refine((s) => s.trim() !== "", "must not be blank");

/** `[clis.NAME]`: a custom CLI, launched by its `command`. */
const CliSchema = z.strictObject({
  command: nonBlank,
  display_name: orNull(str),
  submit_delay_ms: posInt.default(DEFAULT_SUBMIT_DELAY_MS),
  settings_path: orNull(str),
});

/** `[presets.NAME]`: a named set of branches with one CLI. */
const PresetSchema = z.strictObject({
  branches: z.array(z.string()).min(1, "must list at least one branch"),
  cli: nonBlank,
});

const AutoApproveSchema = z.strictObject({
  enabled: bool.default(true),
  safe_commands: strList.default(() => []),
  stall_threshold_seconds: posInt.default(30).transform((v) =>
    Math.max(MIN_SECONDS, v)
  ),
  approval_level: z.enum(["off", "conservative", "safe"]).default("safe"),
  approve_worktree_writes: bool.default(true),
});

const SupervisorSchema = z.strictObject({
  enabled: bool.default(false),
  cli: orNull(str),
  test_command: orNull(str),
  lint_command: orNull(str),
  build_command: orNull(str),
  doc_build_command: orNull(str),
  doc_tool_command: orNull(str),
  spec_validate_command: orNull(str),
  fmt_check_command: orNull(str),
  security_audit_command: orNull(str),
  agent_approval: z.enum(["manual", "auto", "full-auto"]).default("auto"),
  learnings: bool.default(false),
  verify_on_commit_nudge: bool.default(true),
  strict_branch_guard: bool.default(true),
  manual_approvals_log: bool.default(true),
  auto_revert: bool.default(false),
  /** `null` when absent: absent means no auto-approve. */
  auto_approve: orNull(AutoApproveSchema),
  conflict: table({
    window_seconds: posInt.default(120),
    warn_on_intent_overlap: bool.default(true),
    escalate_on_violation: bool.default(true),
  }),
  learnings_config: table({
    flush_interval_seconds: z.number().int().min(1).default(60),
    broker_publish: z.enum(["auto", "force_off"]).default("auto"),
  }),
  common_dev_allowlist: table({
    enabled: bool.default(true),
    extra: strList.default(() => []),
  }),
  tell: table({
    mode: z.enum(["feedback", "send-keys"]).default("feedback"),
    inventory_max_age_seconds: posInt.default(60),
  }),
});

/**
 * The config schema: one `config.toml` is its input (every key optional, an
 * unknown key anywhere is an error naming it); parsing the merged files
 * gives the fully resolved {@link Config}, every default applied.
 */
export const ConfigSchema = z.strictObject({
  default_cli: orNull(str),
  default_spec_cli: orNull(str),
  branch_prefix: str.default("spec/"),
  mouse: bool.default(true),
  /** `sibling` = `<parent>/<project>-<branch>`; `child` = `<repo>/.git-paw/worktrees/<slug>`. */
  worktree_placement: z.enum(["sibling", "child"]).default("sibling"),
  clis: z.record(z.string(), CliSchema).default(() => ({})),
  presets: z.record(z.string(), PresetSchema).default(() => ({})),
  /** `null` when no file has a `[specs]` table (auto-detection may apply). */
  specs: orNull(z.strictObject({
    dir: str.default("specs"),
    type: z.enum(["openspec", "markdown", "speckit"]).default("openspec"),
  })),
  logging: table({ enabled: bool.default(false) }),
  dashboard: table({
    show_message_log: bool.default(false),
    broker_log: table({
      max_messages: z.number().int().min(1).default(500),
      default_visible: bool.default(true),
    }),
  }),
  broker: table({
    enabled: bool.default(true),
    port: z.number().int().min(0).max(65535).default(DEFAULT_BROKER_PORT),
    bind: z.string().min(1).default("127.0.0.1"),
    watcher: table({
      // 0 turns republishing off; 1-4 are raised to the minimum.
      republish_working_ttl_seconds: posInt.default(60).transform((v) =>
        v > 0 && v < MIN_SECONDS ? MIN_SECONDS : v
      ),
    }),
    conflicts: table({ enabled: bool.default(true) }),
    learnings: table({ enabled: bool.default(false) }),
  }),
  supervisor: SupervisorSchema.optional().transform((s) => ({
    ...(s ?? SupervisorSchema.parse({})),
    /** True when some file has a `[supervisor]` table (docs/REFERENCE.md, "Configuration"). */
    configured: s !== undefined,
  })),
  /** The integration lane and the merge queue (`git paw merge`). */
  integration: table({
    /** Check the union of the live branches on every commit. */
    enabled: bool.default(true),
    /**
     * Test command run on merged trees: argv, or a string split with shell
     * word rules; `null` falls back to `[supervisor] test_command`.
     */
    test_command: orNull(z.union([
      z.array(z.string()).min(1, "must name a program"),
      nonBlank,
    ])),
    /** A test run longer than this is stopped and counts as failed. */
    timeout_seconds: z.number().int().min(1).default(600),
  }),
  governance: table({
    adr: orNull(str),
    test_strategy: orNull(str),
    security: orNull(str),
    dod: orNull(str),
    constitution: orNull(str),
    readme: orNull(str),
    docs: orNull(str),
  }),
  layout: table({ border_affordances: bool.default(true) }),
  opsx: table({
    role_gating: z.enum(["warn", "block", "off"]).default("warn"),
  }),
  mcp: table({ name: str.default("git-paw") }),
  /** Runnable worktrees: files copied in, a setup command, dev ports. */
  worktree: table({
    /** gitignore patterns of ignored files to copy into new worktrees (with `.worktreeinclude`). */
    copy: strList.default(() => []),
    /** One argv or a list of argvs, run in each new worktree before its agent starts. */
    setup: z.union([
      z.array(z.string()),
      z.array(z.array(z.string()).min(1, "must name a program")),
    ], { error: "must be an argv (array of strings) or a list of argvs" })
      .default(() => []).transform((v): string[][] =>
        v.length === 0
          ? []
          : typeof v[0] === "string"
          ? [v as string[]]
          : v as string[][]
      ),
    /** Seconds one setup command may run before it is stopped. */
    setup_timeout_seconds: z.number().int().min(1).default(600),
    /** Ports per agent (`PORT` is the first); 0 = no ports. */
    ports: z.number().int().min(0).max(1000).default(10),
  }),
  /**
   * Who decides a CLI's permission requests (lib/core/approval_policy.ts).
   * `mode` absent resolves at `start`: `pane` for an interactive start,
   * `queue` for `--unattended` and supervisor sessions (the receipt keeps
   * the resolved mode).
   */
  approvals: table({
    mode: orNull(z.enum(["pane", "queue"])),
    allow: strList.default(() => []),
    deny: strList.default(() => []),
    worktree_writes: z.enum(["allow", "ask"]).default("allow"),
    timeout_seconds: z.number().int().min(1).default(600),
  }),
  notify: table({
    /** argv run on notable events; `null` = none. */
    command: orNull(z.array(z.string()).min(1, "must name a program")),
    bell: bool.default(true),
    stall_threshold_seconds: z.number().int().min(1).default(300),
  }),
});

/** The parsed content of one config file (all keys optional). */
export type ConfigFile = z.input<typeof ConfigSchema>;
/** Merged, validated configuration with every default applied. */
export type Config = z.output<typeof ConfigSchema>;

/** The configuration used when no file sets anything. */
export function defaultConfig(): Config {
  return ConfigSchema.parse({});
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
  const r = ConfigSchema.safeParse(raw);
  // The file's own keys (not the defaults): files merge key by key.
  // (structuredClone: plain objects, whatever prototype the TOML parser used.)
  if (r.success) return { ok: true, value: structuredClone(raw) as ConfigFile };
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
function mergeConfigFiles(
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
  const c = ConfigSchema.parse(f);
  const ttl = f.broker?.watcher?.republish_working_ttl_seconds;
  if (
    ttl !== undefined && ttl !== c.broker.watcher.republish_working_ttl_seconds
  ) {
    warn(
      `[broker.watcher] republish_working_ttl_seconds = ${ttl} is below the minimum; using ${c.broker.watcher.republish_working_ttl_seconds}`,
    );
  }
  const stall = f.supervisor?.auto_approve?.stall_threshold_seconds;
  const got = c.supervisor.auto_approve?.stall_threshold_seconds;
  if (stall !== undefined && stall !== got) {
    warn(
      `[supervisor.auto_approve] stall_threshold_seconds = ${stall} is below the minimum; using ${got}`,
    );
  }
  return c;
}

/** `http://<bind>:<port>` for a resolved config (IPv6 binds bracketed). */
export function brokerUrl(config: Config, port = config.broker.port): string {
  const host = config.broker.bind.includes(":")
    ? `[${config.broker.bind}]`
    : config.broker.bind;
  return `http://${host}:${port}`;
}
