/**
 * Spec backends (docs/REFERENCE.md, "Spec backends") as pure parsing: the
 * text of the spec files goes in, launchable {@link SpecEntry} values come
 * out. `lib/coord/specs.ts` reads the files and calls these.
 *
 * - **openspec** — one change directory with a `tasks.md`; the prompt is the
 *   tasks body (frontmatter stripped) followed by every
 *   `specs/<cap>/spec.md` under `## Spec: <cap>`; owned files are the `- `
 *   bullets after a `files owned:` / `owned files:` line.
 * - **markdown** — one `*.md` file whose frontmatter says
 *   `paw_status: pending`; id = `paw_branch` or the file stem.
 * - **speckit** — per feature, the first phase with open tasks: one entry per
 *   open `[P]` task plus one consolidated entry for the other open tasks.
 * @module
 */
import { slugify } from "./slug.ts";

/** The spec formats git-paw reads. */
const SPEC_BACKENDS = ["openspec", "markdown", "speckit"] as const;
/** One of {@link SPEC_BACKENDS}. */
export type SpecBackend = typeof SPEC_BACKENDS[number];

/** One launchable unit of work found in the specs directory. */
export type SpecEntry = {
  /** Spec id (change dir, file stem / `paw_branch`, or `<feature>-T###`). */
  id: string;
  backend: SpecBackend;
  /** Branch the agent works on. */
  branch: string;
  /** CLI named by the `paw_cli` frontmatter, if any. */
  cli: string | null;
  /** What the agent is asked to do (goes into its AGENTS.md). */
  prompt: string;
  /** Files the spec says it owns; `null` when it names none. */
  owned_files: string[] | null;
  /**
   * Where the spec lives, relative to the specs directory: the change or
   * feature directory, or the markdown file name.
   */
  source: string;
};

/** Frontmatter fields (`key: value` lines) and the text after them. */
export type Frontmatter = {
  fields: Record<string, string> | null;
  body: string;
};

/**
 * Split `---`-fenced frontmatter off `text`. Fields are `key: value` lines
 * (values trimmed, no YAML beyond that). Without a closed fence the whole
 * text is the body and `fields` is null.
 *
 * @example
 * ```ts
 * import { parseFrontmatter } from "./specs.ts";
 * const f = parseFrontmatter("---\npaw_cli: claude\n---\n# Tasks\n");
 * // f.fields = { paw_cli: "claude" }, f.body = "# Tasks\n"
 * ```
 */
export function parseFrontmatter(text: string): Frontmatter {
  const start = text.trimStart();
  if (!start.startsWith("---")) return { fields: null, body: text };
  const lines = start.split("\n");
  if (lines[0]!.replace(/-+/, "").trim() !== "") {
    return { fields: null, body: text };
  }
  const close = lines.findIndex((l, i) => i > 0 && l.trim() === "---");
  if (close < 0) return { fields: null, body: text };
  const fields: Record<string, string> = {};
  for (const line of lines.slice(1, close)) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const key = line.slice(0, i).trim();
    if (key) fields[key] = line.slice(i + 1).trim();
  }
  return { fields, body: lines.slice(close + 1).join("\n") };
}

/** `<prefix><id>`, with a `/` between them when the prefix lacks one. */
export function specBranch(prefix: string, id: string): string {
  return prefix === "" || prefix.endsWith("/")
    ? `${prefix}${id}`
    : `${prefix}/${id}`;
}

/**
 * The `- ` bullets right after the first `files owned:` / `owned files:`
 * line (case-insensitive), backticks stripped, up to the first other
 * non-blank line; null when there are none.
 */
export function ownedFiles(text: string): string[] | null {
  const lower = text.toLowerCase();
  const at = [lower.indexOf("files owned:"), lower.indexOf("owned files:")]
    .filter((i) => i >= 0).sort((a, b) => a - b)[0];
  if (at === undefined) return null;
  const nl = text.indexOf("\n", at);
  if (nl < 0) return null;
  const files: string[] = [];
  for (const line of text.slice(nl + 1).split("\n")) {
    const t = line.trim();
    if (t.startsWith("- ")) {
      const f = t.slice(2).trim().replace(/^`+|`+$/g, "");
      if (f) files.push(f);
    } else if (t !== "") break;
  }
  return files.length ? files : null;
}

/** What {@link openspecEntry} needs from one change directory. */
export type OpenSpecChange = {
  /** Directory name = spec id. */
  id: string;
  /** Text of `tasks.md`. */
  tasks: string;
  /** `specs/<cap>/spec.md` texts, in any order (sorted by name here). */
  capabilities: Array<{ name: string; spec: string }>;
};

/** One OpenSpec change as a spec entry. */
export function openspecEntry(
  change: OpenSpecChange,
  branchPrefix: string,
): SpecEntry {
  const { fields, body } = parseFrontmatter(change.tasks);
  let prompt = body;
  const caps = [...change.capabilities].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0
  );
  for (const c of caps) prompt += `\n\n## Spec: ${c.name}\n\n${c.spec}`;
  return {
    id: change.id,
    backend: "openspec",
    branch: specBranch(branchPrefix, change.id),
    cli: nonEmpty(fields?.paw_cli),
    prompt,
    owned_files: ownedFiles(change.tasks),
    source: change.id,
  };
}

/**
 * One markdown spec file as an entry, or null unless its frontmatter says
 * `paw_status: pending`.
 */
export function markdownEntry(
  file: { name: string; text: string },
  branchPrefix: string,
): SpecEntry | null {
  const { fields, body } = parseFrontmatter(file.text);
  if (!fields || fields.paw_status !== "pending") return null;
  const id = nonEmpty(fields.paw_branch) ?? file.name.replace(/\.md$/i, "");
  return {
    id,
    backend: "markdown",
    branch: specBranch(branchPrefix, id),
    cli: nonEmpty(fields.paw_cli),
    prompt: body,
    owned_files: null,
    source: file.name,
  };
}

function nonEmpty(v: string | undefined): string | null {
  return v !== undefined && v.trim() !== "" ? v.trim() : null;
}

// ---------------------------------------------------------------------------
// Spec Kit

/** One Spec Kit task line (`- [ ] T001 [P] description`). */
export type SpeckitTask = {
  id: string;
  /** Carries the `[P]` (parallel) marker. */
  parallel: boolean;
  complete: boolean;
  description: string;
  /** Number of the phase it sits in (0 before any phase heading). */
  phase: number;
};

/** One `## Phase N: name` section of a Spec Kit `tasks.md`. */
export type SpeckitPhase = {
  number: number;
  name: string;
  tasks: SpeckitTask[];
};

const PHASE_RE = /^##\s+Phase\s+(\d+)\s*[:\-\u2014]\s*(.+?)\s*$/;
const TASK_RE = /^-\s+\[([ xX])\]\s+(T\d+)(\s+\[P\])?\s+(.+?)\s*$/;

/** Phases and tasks of a Spec Kit `tasks.md`, in file order. */
export function parseSpeckitTasks(text: string): SpeckitPhase[] {
  const phases: SpeckitPhase[] = [];
  let cur: SpeckitPhase | null = null;
  for (const line of text.split("\n")) {
    const p = PHASE_RE.exec(line.trimEnd());
    if (p) {
      cur = { number: Number(p[1]), name: p[2]!, tasks: [] };
      phases.push(cur);
      continue;
    }
    const t = TASK_RE.exec(line.trimEnd());
    if (!t) continue;
    if (!cur) {
      cur = { number: 0, name: "", tasks: [] };
      phases.push(cur);
    }
    cur.tasks.push({
      id: t[2]!,
      parallel: t[3] !== undefined,
      complete: t[1] !== " ",
      description: t[4]!,
      phase: cur.number,
    });
  }
  return phases;
}

/** What {@link speckitEntries} needs from one feature directory. */
export type SpeckitFeature = {
  /** Directory name, e.g. `003-user-auth`. */
  name: string;
  /** Text of `tasks.md`. */
  tasks: string;
  /** `spec.md` text, if present. */
  spec: string | null;
  /** `plan.md` text, if present. */
  plan: string | null;
  /** `checklists/*` files, any order (sorted by name here). */
  checklists: Array<{ name: string; content: string }>;
};

const SECTION_BREAK = "\n\n---\n\n";

function featureContext(f: SpeckitFeature): string[] {
  const out: string[] = [];
  if (f.spec?.trim()) out.push(`## Feature Context\n\n${f.spec.trim()}`);
  if (f.plan?.trim()) out.push(`## Implementation Plan\n\n${f.plan.trim()}`);
  if (f.checklists.length) {
    const lists = [...f.checklists].sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    );
    out.push(
      [
        "## Validation Criteria (advisory)\n\nCheck your work against these lists; they are guidance, not gates.",
        ...lists.map((c) => `### ${c.name}\n\n${c.content.trim()}`),
      ].join("\n\n"),
    );
  }
  return out;
}

/**
 * The entries of one Spec Kit feature: in its first phase with open tasks,
 * one entry per open `[P]` task (id `<feature>-T###`, branch
 * `task/<slug of T###-description>`) and one for the remaining open tasks
 * (id `<feature>-phase-N`, branch `phase/<slug of feature-phase name>`).
 * No open task → no entry.
 */
export function speckitEntries(feature: SpeckitFeature): SpecEntry[] {
  const phases = parseSpeckitTasks(feature.tasks);
  const open = phases.filter((p) => p.tasks.some((t) => !t.complete));
  if (open.length === 0) return [];
  const phase = open.reduce((a, b) => (b.number < a.number ? b : a));
  const context = featureContext(feature);
  const entries: SpecEntry[] = [];
  const todo = phase.tasks.filter((t) => !t.complete);
  for (const t of todo.filter((t) => t.parallel)) {
    entries.push({
      id: `${feature.name}-${t.id}`,
      backend: "speckit",
      branch: `task/${slugify(`${t.id}-${t.description}`)}`,
      cli: null,
      prompt: [...context, `## Your Task\n\n${t.id} — ${t.description}`]
        .join(SECTION_BREAK),
      owned_files: null,
      source: feature.name,
    });
  }
  const rest = todo.filter((t) => !t.parallel);
  if (rest.length) {
    const task = [
      `## Your Task\n\nPhase ${phase.number} (${phase.name}): do these tasks in this order:\n`,
      ...rest.map((t) => `- ${t.id} — ${t.description}`),
      "\nWhen a task is finished, tick its box (`- [ ]` → `- [x]`) in this worktree's `tasks.md`, with the code change or in a commit of its own. Report done only once every task above is ticked.",
    ].join("\n");
    entries.push({
      id: `${feature.name}-phase-${phase.number}`,
      backend: "speckit",
      branch: `phase/${slugify(`${feature.name}-${phase.name}`)}`,
      cli: null,
      prompt: [...context, task].join(SECTION_BREAK),
      owned_files: null,
      source: feature.name,
    });
  }
  return entries;
}

// ---------------------------------------------------------------------------
// Reading helpers for tools (tasks, cross references)

/** One task of a spec, as the MCP `get_tasks` tool lists it. */
export type SpecTask = {
  id: string;
  /** Phase number (0 before the first heading). */
  phase: number;
  /** Spec Kit `[P]` marker (always false for other backends). */
  parallel: boolean;
  description: string;
  complete: boolean;
};

/**
 * Tasks of a `tasks.md`: Spec Kit format for `speckit`, otherwise a plain
 * checkbox list where each `## ` heading starts the next phase and ids are
 * `1`, `2`, … in order.
 */
export function specTasks(text: string, backend: SpecBackend): SpecTask[] {
  if (backend === "speckit") {
    return parseSpeckitTasks(text).flatMap((p) =>
      p.tasks.map((t) => ({
        id: t.id,
        phase: t.phase,
        parallel: t.parallel,
        description: t.description,
        complete: t.complete,
      }))
    );
  }
  const out: SpecTask[] = [];
  let phase = 0;
  for (const line of parseFrontmatter(text).body.split("\n")) {
    const t = line.trim();
    if (t.startsWith("## ")) {
      phase++;
      continue;
    }
    const m = /^[-*]\s+\[(.)\]\s?(.*)$/.exec(t);
    if (!m) continue;
    out.push({
      id: String(out.length + 1),
      phase,
      parallel: false,
      description: m[2]!.trim(),
      complete: m[1] === "x" || m[1] === "X",
    });
  }
  return out;
}

/** The distinct `[[name]]` references in `text`, in order of appearance. */
export function specRefs(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/\[\[([^\]\n]+?)\]\]/g)) {
    const name = m[1]!.trim();
    if (name) out.add(name);
  }
  return [...out];
}

/** The first `# ` heading of a markdown text, or null. */
export function firstHeading(text: string): string | null {
  for (const line of text.split("\n")) {
    const m = /^#\s+(.+?)\s*$/.exec(line.trim());
    if (m) return m[1]!;
  }
  return null;
}

// ---------------------------------------------------------------------------
// Choosing specs by name (`start --specs a,b`)

/** Result of {@link selectSpecs}. */
export type SpecSelection =
  | { ok: true; entries: SpecEntry[] }
  | { ok: false; error: string };

/**
 * The entries `names` pick, in the order named, each once. A name is, in
 * this order: a spec id; a Spec Kit feature directory (all its entries);
 * an unambiguous Spec Kit numeric prefix (`003` for `003-user-auth`). An
 * unknown or ambiguous name fails the whole selection, naming the
 * candidates, so nothing is launched half-way.
 *
 * @example
 * ```ts
 * import { selectSpecs, type SpecEntry } from "./specs.ts";
 * const e = { id: "a", backend: "openspec", branch: "spec/a", cli: null, prompt: "", owned_files: null, source: "a" } satisfies SpecEntry;
 * selectSpecs([e], ["a"]); // { ok: true, entries: [e] }
 * ```
 */
export function selectSpecs(
  entries: readonly SpecEntry[],
  names: readonly string[],
): SpecSelection {
  const picked: SpecEntry[] = [];
  const add = (list: SpecEntry[]) => {
    for (const e of list) if (!picked.includes(e)) picked.push(e);
  };
  const features = [
    ...new Set(
      entries.filter((e) => e.backend === "speckit").map((e) => e.source),
    ),
  ];
  for (const raw of names) {
    const name = raw.trim();
    if (name === "") continue;
    const byId = entries.filter((e) => e.id === name);
    if (byId.length) {
      add(byId);
      continue;
    }
    if (features.includes(name)) {
      add(entries.filter((e) => e.backend === "speckit" && e.source === name));
      continue;
    }
    const byPrefix = /^\d+$/.test(name)
      ? features.filter((f) => f.split("-")[0] === name)
      : [];
    if (byPrefix.length === 1) {
      add(entries.filter((e) => e.source === byPrefix[0]));
      continue;
    }
    if (byPrefix.length > 1) {
      return {
        ok: false,
        error: `Spec error: '${name}' matches several features: ${
          byPrefix.join(", ")
        }`,
      };
    }
    const known = [...entries.map((e) => e.id), ...features];
    return {
      ok: false,
      error: `Spec error: no pending spec '${name}'; pending: ${
        known.length ? [...new Set(known)].join(", ") : "(none)"
      }`,
    };
  }
  return { ok: true, entries: picked };
}
