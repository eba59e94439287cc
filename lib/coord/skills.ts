/**
 * Skill templates (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"): resolve the embedded template or a repo
 * override (`.agents/skills/<name>/SKILL.md`), strip its frontmatter and fill
 * the placeholders. Rendering is pure; only {@link resolveSkillTemplate}
 * reads files (`--allow-read`).
 * @module
 */
import { dirname, join } from "node:path";
import type { Config } from "../core/config.ts";
import { readTextOrNull } from "../adapters/fs.ts";
import { COORDINATION_SKILL_TEMPLATE } from "./assets/coordination_skill.ts";

/** Skills git-paw ships. */
const EMBEDDED_SKILLS: Readonly<Record<string, string>> = {
  coordination: COORDINATION_SKILL_TEMPLATE,
};

/** Gate placeholders and the `[supervisor]` keys that fill them. */
const GATE_PLACEHOLDERS = {
  TEST_COMMAND: "test_command",
  LINT_COMMAND: "lint_command",
  BUILD_COMMAND: "build_command",
  DOC_BUILD_COMMAND: "doc_build_command",
  SPEC_VALIDATE_COMMAND: "spec_validate_command",
  FMT_CHECK_COMMAND: "fmt_check_command",
  SECURITY_AUDIT_COMMAND: "security_audit_command",
} as const;

/** Text for a gate command that is not configured. */
export const NOT_CONFIGURED = "(not configured)";

/** Dev commands agents may run without asking (shown by `{{DEV_ALLOWLIST_PRESET}}`). */
const DEV_ALLOWLIST_PRESET = [
  "git status",
  "git diff",
  "git log",
  "git show",
  "git add",
  "git commit",
  "git paw publish",
  "git paw inbox",
  "find",
  "grep",
  "sed -n",
];

/** Everything a skill template can refer to. */
export type SkillContext = {
  /** The agent id (slug of the branch). */
  branchId: string;
  projectName: string;
  /** Broker URL; empty when the broker is off. */
  brokerUrl: string;
  /** Gate commands by placeholder name; missing/null ⇒ "(not configured)". */
  gates?: Partial<Record<keyof typeof GATE_PLACEHOLDERS, string | null>>;
  /** `{{DOC_TOOL_COMMAND}}`; missing ⇒ empty. */
  docToolCommand?: string | null;
  /** `{{DEV_ALLOWLIST_PRESET}}`. */
  devAllowlistPreset?: string;
  /** `{{SPEC_PATH_DOCTRINE}}`; empty drops the line it stands on. */
  specPathDoctrine?: string;
  /** Keep the `opsx-role-gating` lines (an OpenSpec backend is in use). */
  openspecInSession?: boolean;
};

/** A rendered skill and what looked wrong in its template. */
export type RenderedSkill = { text: string; warnings: string[] };

/**
 * Split `--- … ---` YAML-ish frontmatter (simple `key: value` lines) from the
 * Markdown body. Text without frontmatter comes back whole.
 */
export function parseFrontmatter(
  text: string,
): { meta: Record<string, string>; body: string } {
  const m = /^\uFEFF?---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(
    text,
  );
  if (!m) return { meta: {}, body: text };
  const meta: Record<string, string> = {};
  for (const line of m[1].split(/\r?\n/)) {
    const kv = /^([A-Za-z0-9_-]+)\s*:\s*(.*)$/.exec(line);
    if (kv) meta[kv[1]] = kv[2].trim().replace(/^(["'])(.*)\1$/, "$2");
  }
  return { meta, body: text.slice(m[0].length) };
}

const GATING_BEGIN = "<!-- opsx-role-gating:begin -->";
const GATING_END = "<!-- opsx-role-gating:end -->";
/** Placeholders left for someone else to fill; never warned about. */
const DEFERRED = new Set(["CHANGE_ID"]);

/**
 * Fill a skill template. Frontmatter is stripped (its `name`/`description`
 * feed `{{SKILL_NAME}}`/`{{SKILL_DESCRIPTION}}`); unknown placeholders stay
 * and produce one warning each. Pure.
 */
export function renderSkill(
  template: string,
  ctx: SkillContext,
  skillName = "coordination",
): RenderedSkill {
  const warnings: string[] = [];
  const { meta, body } = parseFrontmatter(template);
  const values: Record<string, string> = {
    BRANCH_ID: ctx.branchId,
    PROJECT_NAME: ctx.projectName,
    GIT_PAW_BROKER_URL: ctx.brokerUrl.replace(/\/+$/, ""),
    DOC_TOOL_COMMAND: ctx.docToolCommand ?? "",
    DEV_ALLOWLIST_PRESET: ctx.devAllowlistPreset ??
      DEV_ALLOWLIST_PRESET.join(", "),
    SPEC_PATH_DOCTRINE: ctx.specPathDoctrine ?? "",
    SKILL_NAME: meta.name ?? skillName,
    SKILL_DESCRIPTION: meta.description ?? "",
  };
  for (const key of Object.keys(GATE_PLACEHOLDERS)) {
    const v = ctx.gates?.[key as keyof typeof GATE_PLACEHOLDERS];
    values[key] = v && v.trim() !== "" ? v : NOT_CONFIGURED;
  }
  const out: string[] = [];
  let inGating = false;
  const unknown = new Set<string>();
  for (const line of body.split("\n")) {
    const t = line.trim();
    if (t === GATING_BEGIN) {
      inGating = true;
      continue;
    }
    if (t === GATING_END) {
      inGating = false;
      continue;
    }
    if (inGating && !ctx.openspecInSession) continue;
    const solo = /^\{\{([A-Z_]+)\}\}$/.exec(t);
    if (solo && values[solo[1]] === "") continue; // nothing to say here
    out.push(line.replace(/\{\{([A-Z_]+)\}\}/g, (all, name: string) => {
      if (name in values) return values[name];
      if (!DEFERRED.has(name)) unknown.add(name);
      return all;
    }));
  }
  for (const name of unknown) {
    warnings.push(
      `skill ${skillName}: unknown placeholder {{${name}}} left as is`,
    );
  }
  return { text: out.join("\n").trim() + "\n", warnings };
}

/** File contents by path (null: not there), shared by several lookups. */
export type SkillFileCache = Map<string, Promise<string | null>>;

const readSkillFile = readTextOrNull;

/**
 * Find the template for skill `name`: the first
 * `<dir>/.agents/skills/<name>/SKILL.md` among `dirs` (each dir and up to 4
 * parents), else the embedded one. `cache` lets a batch of lookups (one per
 * agent, mostly the same parents) read each candidate once. Needs
 * `--allow-read`.
 */
export async function resolveSkillTemplate(
  name: string,
  dirs: string[],
  cache: SkillFileCache = new Map(),
): Promise<{ template: string; source: string }> {
  const seen = new Set<string>();
  for (const start of dirs) {
    let dir = start;
    for (let up = 0; up <= 4; up++) {
      if (!seen.has(dir)) {
        seen.add(dir);
        const file = join(dir, ".agents", "skills", name, "SKILL.md");
        let text = cache.get(file);
        if (!text) cache.set(file, text = readSkillFile(file));
        const found = await text;
        if (found !== null) return { template: found, source: file };
      }
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  const embedded = EMBEDDED_SKILLS[name];
  if (embedded === undefined) throw new RangeError(`unknown skill '${name}'`);
  return { template: embedded, source: "embedded" };
}

/** The `{{SPEC_PATH_DOCTRINE}}` paragraph for the configured spec backend. */
function specPathDoctrine(config: Config | undefined): string {
  const specs = config?.specs;
  if (!specs) return "";
  switch (specs.type) {
    case "openspec":
      return "Specs: edit only your own change under `openspec/changes/`; `openspec/specs/` and the archive belong to the supervisor.";
    case "speckit":
      return "Specs: your feature lives under `.specify/specs/`; tick its tasks as you finish them.";
    default:
      return `Specs: your spec lives under \`${specs.dir}/\`; tick its tasks as you finish them.`;
  }
}

function nonBlank(v: string | null | undefined): string | null {
  return typeof v === "string" && v.trim() !== "" ? v : null;
}

/** Build the config-derived parts of a {@link SkillContext}. Pure. */
export function skillContextFromConfig(
  config: Config | undefined,
  base: { branchId: string; projectName: string; brokerUrl: string },
): SkillContext {
  const sup = config?.supervisor;
  const gates: SkillContext["gates"] = {};
  for (const [ph, key] of Object.entries(GATE_PLACEHOLDERS)) {
    gates[ph as keyof typeof GATE_PLACEHOLDERS] = nonBlank(sup?.[key]);
  }
  const allow = sup?.common_dev_allowlist;
  const preset = allow?.enabled === false
    ? "(disabled)"
    : [...DEV_ALLOWLIST_PRESET, ...(allow?.extra ?? [])].join(", ");
  return {
    ...base,
    gates,
    docToolCommand: nonBlank(sup?.doc_tool_command),
    devAllowlistPreset: preset,
    specPathDoctrine: specPathDoctrine(config),
    openspecInSession: config?.specs?.type === "openspec",
  };
}
