/**
 * MCP tools about the project's own documents: governance (`[governance]`
 * paths: ADRs, test strategy, security checklist, definition of done,
 * constitution), README and docs, specs and their tasks, and the agent
 * skills. An unset path answers null or empty; a configured file that
 * cannot be read is an error.
 * @module
 */
import { isAbsolute, join, relative } from "node:path";
import { z } from "zod";
import { brokerUrl, type Config } from "../core/config.ts";
import { AppError } from "../core/errors.ts";
import { slugify } from "../core/slug.ts";
import {
  firstHeading,
  type SpecEntry,
  specRefs,
  type SpecTask,
  specTasks,
} from "../core/specs.ts";
import { listDir, readTextOrNull } from "../adapters/fs.ts";
import { currentBranch } from "../adapters/git.ts";
import { listSpecs, specsSettings } from "../coord/specs.ts";
import {
  renderSkill,
  resolveSkillTemplate,
  skillContextFromConfig,
} from "../coord/skills.ts";
import { confine } from "./_confine.ts";
import type { McpContext } from "./context.ts";
import { defineTool, type ToolDef } from "./tool.ts";

type Governance = Config["governance"];

function underRoot(root: string, p: string): string {
  return isAbsolute(p) ? p : join(root, p);
}

/** A configured document's text; null when unset; an error when unreadable. */
async function configuredDoc(
  root: string,
  path: string | null,
): Promise<string | null> {
  if (!path) return null;
  const full = underRoot(root, path);
  try {
    return await Deno.readTextFile(full);
  } catch (e) {
    throw new AppError(
      `MCP error: configured governance path ${full} could not be read: ${
        (e as Error).message
      }`,
      "mcp",
    );
  }
}

async function governance(ctx: McpContext): Promise<Governance> {
  return (await ctx.config()).governance;
}

/** One ADR file. */
export type AdrInfo = {
  id: string;
  title: string;
  path: string;
  status: string;
};

/** Title (first `# ` heading, else `fallback`) and `Status:` of an ADR. */
export function adrMeta(
  text: string,
  fallback: string,
): { title: string; status: string } {
  let status = "unknown";
  for (const line of text.split("\n")) {
    const m = /^\s*(?:-\s*)?(?:\*\*)?status:?(?:\*\*)?:?\s*(.+?)\s*$/i.exec(
      line,
    );
    if (m && m[1]!.trim()) {
      status = m[1]!.replace(/^\*\*\s*/, "").trim();
      break;
    }
  }
  return { title: firstHeading(text) ?? fallback, status };
}

async function adrs(root: string, gov: Governance): Promise<AdrInfo[]> {
  if (!gov.adr) return [];
  const dir = underRoot(root, gov.adr);
  const out: AdrInfo[] = [];
  for (const e of await listDir(dir) ?? []) {
    if (!e.isFile || !e.name.toLowerCase().endsWith(".md")) continue;
    const stem = e.name.replace(/\.md$/i, "");
    const id = stem.split(/[-_ ]/).slice(0, 2).join("-") || stem;
    const text = await readTextOrNull(join(dir, e.name)) ?? "";
    out.push({
      id,
      ...adrMeta(text, stem),
      path: relative(root, join(dir, e.name)),
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** One `- [ ]` / `- [x]` item of the definition of done. */
export function checklistItems(
  text: string,
): Array<{ text: string; complete: boolean }> {
  const out: Array<{ text: string; complete: boolean }> = [];
  for (const line of text.split("\n")) {
    const m = /^\s*[-*]\s+\[(.)\]\s?(.*)$/.exec(line);
    if (m) out.push({ text: m[2]!.trim(), complete: /[xX]/.test(m[1]!) });
  }
  return out;
}

/** A tool answering with one `[governance]` document. */
function docTool(
  name: string,
  doc: { key: keyof Governance; what: string },
): ToolDef {
  const { key, what } = doc;
  return defineTool(name, {
    description:
      `The ${what} ([governance].${key}) as {"content": text}, or null when unset. An error only when the configured file cannot be read.`,
    input: {},
    run: async (ctx) => ({
      content: await configuredDoc(ctx.root, (await governance(ctx))[key]),
    }),
  });
}

// ---------------------------------------------------------------------------
// Specs

type Found = { entries: SpecEntry[]; dir: string; path: string };

/** The repo's specs; empty (never an error) when none are configured. */
async function discover(ctx: McpContext): Promise<Found> {
  const config = await ctx.config();
  const settings = await specsSettings(ctx.root, config);
  if (!settings) return { entries: [], dir: "specs", path: "" };
  try {
    return {
      entries: await listSpecs(ctx.root, config),
      dir: settings.dir.replace(/\/+$/, ""),
      path: settings.path,
    };
  } catch (e) {
    ctx.log(`specs: ${(e as Error).message}`);
    return { entries: [], dir: settings.dir, path: settings.path };
  }
}

function find(f: Found, id: string): SpecEntry | undefined {
  return f.entries.find((e) => e.id === id) ??
    f.entries.find((e) => e.source === id || e.source === `${id}.md`);
}

async function specTitle(f: Found, e: SpecEntry): Promise<string> {
  const primary = e.backend === "openspec"
    ? "proposal.md"
    : e.backend === "speckit"
    ? "spec.md"
    : null;
  if (primary) {
    const t = await readTextOrNull(join(f.path, e.source, primary));
    const h = t === null ? null : firstHeading(t);
    if (h) return h;
  }
  return firstHeading(e.prompt) ?? e.id;
}

async function artifacts(
  f: Found,
  e: SpecEntry,
): Promise<Array<{ name: string; content: string }>> {
  const dir = join(f.path, e.source);
  const out: Array<{ name: string; content: string }> = [];
  const named = async (file: string) => {
    const content = await readTextOrNull(join(dir, file));
    if (content !== null) {
      out.push({ name: file.replace(/\.md$/, ""), content });
    }
  };
  if (e.backend === "markdown") {
    out.push({ name: e.id, content: e.prompt });
  } else if (e.backend === "openspec") {
    for (const file of ["proposal.md", "design.md", "tasks.md"]) {
      await named(file);
    }
    for (const cap of await listDir(join(dir, "specs")) ?? []) {
      if (!cap.isDirectory) continue;
      const content = await readTextOrNull(
        join(dir, "specs", cap.name, "spec.md"),
      );
      if (content !== null) {
        out.push({ name: `specs/${cap.name}/spec.md`, content });
      }
    }
  } else {
    for (const file of ["spec.md", "plan.md", "tasks.md"]) await named(file);
    for (const c of await listDir(join(dir, "checklists")) ?? []) {
      if (!c.isFile) continue;
      const content = await readTextOrNull(join(dir, "checklists", c.name));
      if (content !== null) out.push({ name: `checklists/${c.name}`, content });
    }
  }
  return out;
}

async function tasksOf(f: Found, e: SpecEntry): Promise<SpecTask[]> {
  const file = e.backend === "markdown"
    ? join(f.path, e.source)
    : join(f.path, e.source, "tasks.md");
  const text = await readTextOrNull(file);
  return text === null ? [] : specTasks(text, e.backend);
}

function specPath(f: Found, e: SpecEntry): string {
  return `${f.dir}/${e.source}`;
}

// ---------------------------------------------------------------------------
// Docs

async function docsDir(ctx: McpContext): Promise<string | null> {
  const d = (await governance(ctx)).docs;
  return d ? underRoot(ctx.root, d) : null;
}

async function markdownFiles(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for (const e of await listDir(dir) ?? []) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await markdownFiles(join(dir, e.name), rel));
    else if (e.isFile && e.name.toLowerCase().endsWith(".md")) out.push(rel);
  }
  return out;
}

const SKILL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** The project tools. */
export const PROJECT_TOOLS: ToolDef[] = [
  defineTool("get_adrs", {
    description:
      "Architecture Decision Records in [governance].adr: id, title, path, status. Empty when unset.",
    input: {},
    run: async (ctx) => ({ adrs: await adrs(ctx.root, await governance(ctx)) }),
  }),
  defineTool("get_adr", {
    description:
      'The first ADR whose id, title or text contains the query (case-insensitive), with its content; {"adr": null} when none.',
    input: { query: z.string() },
    run: async (ctx, a) => {
      const needle = a.query.toLowerCase();
      for (const adr of await adrs(ctx.root, await governance(ctx))) {
        const content = await readTextOrNull(join(ctx.root, adr.path)) ?? "";
        const hay = `${adr.id} ${adr.title} ${content}`.toLowerCase();
        if (hay.includes(needle)) {
          return { adr: { id: adr.id, path: adr.path, content } };
        }
      }
      return { adr: null };
    },
  }),
  docTool("get_test_strategy", { key: "test_strategy", what: "test strategy" }),
  docTool("get_security_checklist", {
    key: "security",
    what: "security checklist",
  }),
  docTool("get_dod", { key: "dod", what: "definition of done" }),
  defineTool("check_dod", {
    description:
      'The definition-of-done checklist items with their state as written in the file (no judgement); {"items": null} when no DoD is configured.',
    input: { branch: z.string() },
    run: async (ctx, a) => {
      const text = await configuredDoc(ctx.root, (await governance(ctx)).dod);
      return {
        branch: a.branch,
        items: text === null ? null : checklistItems(text),
      };
    },
  }),
  docTool("get_constitution", {
    key: "constitution",
    what: "constitution (e.g. Spec Kit's)",
  }),
  defineTool("get_specs", {
    description:
      "Pending specs of the configured backend (openspec, markdown or speckit): id, backend, title, status, path. Empty when none.",
    input: {},
    run: async (ctx) => {
      const f = await discover(ctx);
      const specs = [];
      for (const e of f.entries) {
        specs.push({
          id: e.id,
          backend: e.backend,
          title: await specTitle(f, e),
          status: "pending",
          path: specPath(f, e),
          branch: e.branch,
        });
      }
      return { specs };
    },
  }),
  defineTool("get_spec", {
    description:
      'One spec with its artifacts (proposal, design, tasks, capability specs; spec, plan, tasks, checklists; or the markdown body); {"spec": null} when unknown.',
    input: { id: z.string() },
    run: async (ctx, a) => {
      const f = await discover(ctx);
      const e = find(f, a.id);
      if (!e) return { spec: null };
      return {
        spec: {
          id: e.id,
          backend: e.backend,
          path: specPath(f, e),
          artifacts: await artifacts(f, e),
        },
      };
    },
  }),
  defineTool("get_tasks", {
    description:
      "Tasks of a spec: id, phase, parallel ([P]), description, complete. Empty when the spec is unknown or has none.",
    input: { spec: z.string() },
    run: async (ctx, a) => {
      const f = await discover(ctx);
      const e = find(f, a.spec);
      return { tasks: e ? await tasksOf(f, e) : [] };
    },
  }),
  defineTool("get_task", {
    description: 'One task of a spec by id, or {"task": null}.',
    input: { spec: z.string(), id: z.string() },
    run: async (ctx, a) => {
      const f = await discover(ctx);
      const e = find(f, a.spec);
      const tasks = e ? await tasksOf(f, e) : [];
      return { task: tasks.find((t) => t.id === a.id) ?? null };
    },
  }),
  defineTool("get_dependency_graph", {
    description:
      "Spec dependency graph from [[other-spec]] references (OpenSpec proposals, else the spec text): nodes {id, backend}, edges {from, to}.",
    input: {},
    run: async (ctx) => {
      const f = await discover(ctx);
      const ids = new Set(f.entries.map((e) => e.id));
      const edges: Array<{ from: string; to: string }> = [];
      const seen = new Set<string>();
      for (const e of f.entries) {
        const text = (e.backend === "openspec"
          ? await readTextOrNull(join(f.path, e.source, "proposal.md"))
          : null) ?? e.prompt;
        for (const to of specRefs(text)) {
          const k = `${e.id}\0${to}`;
          if (to === e.id || !ids.has(to) || seen.has(k)) {
            continue;
          }
          seen.add(k);
          edges.push({ from: e.id, to });
        }
      }
      edges.sort((x, y) =>
        x.from === y.from ? (x.to < y.to ? -1 : 1) : x.from < y.from ? -1 : 1
      );
      return {
        nodes: f.entries.map((e) => ({ id: e.id, backend: e.backend })),
        edges,
      };
    },
  }),
  defineTool("get_skill", {
    description:
      'An agent skill rendered for this repo (placeholders filled), with its source ("standard" for .agents/skills/<name>/SKILL.md, else "embedded"). Nothing is written. Unknown skills answer {"skill": null, "message": …}.',
    input: { name: z.string() },
    run: async (ctx, a) => {
      if (!SKILL_NAME.test(a.name)) {
        return { skill: null, message: `unknown skill: ${a.name}` };
      }
      let found: { template: string; source: string };
      try {
        found = await resolveSkillTemplate(a.name, [ctx.root]);
      } catch {
        return { skill: null, message: `unknown skill: ${a.name}` };
      }
      const config = await ctx.config();
      const branch = await currentBranch(ctx.root) ?? "main";
      const broker = await ctx.broker();
      const rendered = renderSkill(
        found.template,
        skillContextFromConfig(config, {
          branchId: slugify(branch),
          projectName: ctx.project,
          brokerUrl: broker?.url ?? brokerUrl(config),
        }),
        a.name,
      );
      return {
        skill: {
          name: a.name,
          content: rendered.text,
          source: found.source === "embedded" ? "embedded" : "standard",
        },
      };
    },
  }),
  defineTool("get_readme", {
    description:
      'The README ([governance].readme) as {"content": text}; null when unset or absent.',
    input: {},
    run: async (ctx) => {
      const p = (await governance(ctx)).readme;
      if (!p) return { content: null };
      try {
        return { content: await readTextOrNull(underRoot(ctx.root, p)) };
      } catch (e) {
        throw new AppError(
          `MCP error: configured readme ${p} could not be read: ${
            (e as Error).message
          }`,
          "mcp",
        );
      }
    },
  }),
  defineTool("list_docs", {
    description:
      "Markdown files under [governance].docs, paths relative to it. Empty when unset or absent.",
    input: {},
    run: async (ctx) => {
      const dir = await docsDir(ctx);
      const docs = dir ? (await markdownFiles(dir)).sort() : [];
      return { docs: docs.map((path) => ({ path })) };
    },
  }),
  defineTool("get_doc", {
    description:
      "One document under [governance].docs by its path relative to that directory. Confined to it: a path leading outside is refused (null content and a message).",
    input: { path: z.string() },
    run: async (ctx, a) => {
      const dir = await docsDir(ctx);
      const none = (why: string) => ({
        content: null,
        message: `no document for ${JSON.stringify(a.path)}: ${why}`,
      });
      if (!dir) return none("[governance].docs is not set");
      const c = await confine(dir, a.path);
      if (!c.ok) {
        return none(
          c.reason === "outside" ? "outside the docs directory" : "not found",
        );
      }
      const content = await readTextOrNull(c.real);
      return content === null ? none("not a file") : { content };
    },
  }),
];
