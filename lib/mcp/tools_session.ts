/**
 * MCP tools about the running session: intents and conflicts (rebuilt from
 * the broker's `/log`), session status and summary, and the learnings file.
 * Without an active session they answer with empty lists or nulls.
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import type { LogEntry } from "../core/broker_types.ts";
import {
  DEFAULT_CONFLICT_OPTIONS,
  initialConflictState,
  type LiveIntent,
  overlapRegions,
  reduceConflict,
} from "../core/conflict.ts";
import { LEARNING_SECTIONS } from "../core/learnings.ts";
import type { Region } from "../core/messages.ts";
import { slugify } from "../core/slug.ts";
import { readTextOrNull } from "../adapters/fs.ts";
import { fetchLog, fetchStatusAgents } from "./_broker.ts";
import type { McpContext } from "./context.ts";
import { defineTool, type ToolDef } from "./tool.ts";

/** One live intent as `get_intents` returns it. */
export type IntentView = {
  branch_id: string;
  files: string[];
  /** Region labels per file, parallel to `files` (empty: the whole file). */
  regions: string[][];
  summary: string;
  /** Unix seconds the broker received it. */
  published_at: number;
  valid_for_seconds: number;
};

/** A short label for a region (`fn:x`, `class:X`, `block:a`, `lines:1-9`). */
function regionLabel(r: Region): string {
  switch (r.kind) {
    case "function":
      return `fn:${r.name}`;
    case "class":
      return `class:${r.name}`;
    case "block":
      return `block:${r.anchor}`;
    case "range":
      return `lines:${r.start_line}-${r.end_line}`;
  }
}

/** The latest unexpired intent of each agent in `entries`, sorted by agent. */
export function liveIntents(entries: LogEntry[], nowMs: number): IntentView[] {
  const latest = new Map<string, IntentView>();
  for (const e of entries) {
    const m = e.message;
    if (m.type !== "agent.intent") continue;
    latest.set(m.agent_id, {
      branch_id: m.agent_id,
      files: m.payload.files.map((f) => typeof f === "string" ? f : f.path),
      regions: m.payload.files.map((f) =>
        typeof f === "string" ? [] : (f.regions ?? []).map(regionLabel)
      ),
      summary: m.payload.summary,
      published_at: e.timestamp_unix_secs,
      valid_for_seconds: m.payload.valid_for_seconds,
    });
  }
  return [...latest.values()]
    .filter((i) => (i.published_at + i.valid_for_seconds) * 1000 > nowMs)
    .sort((a, b) => (a.branch_id < b.branch_id ? -1 : 1));
}

/** One forward conflict as `get_conflicts` returns it. */
export type ConflictView = {
  shape: "forward";
  /** The two agents, sorted. */
  branches: [string, string];
  /** Shared paths, with the overlapping regions in brackets when known. */
  files: string[];
  /** Unix seconds (now: the detection is re-run on each call). */
  detected_at: number;
};

/**
 * Forward conflicts among the live intents of `entries` (the same set
 * `get_intents` shows: each agent's latest intent, if unexpired): the
 * detector's reducer takes them in (merging repeated paths), then every pair
 * is compared path by path with its region rules.
 */
export function forwardConflicts(
  entries: LogEntry[],
  nowMs: number,
): ConflictView[] {
  const latest = new Map<string, LogEntry>();
  for (const e of entries) {
    if (e.message.type === "agent.intent") latest.set(e.message.agent_id, e);
  }
  let state = initialConflictState();
  for (const entry of latest.values()) {
    state = reduceConflict(
      state,
      { kind: "entry", entry },
      nowMs,
      DEFAULT_CONFLICT_OPTIONS,
    ).state;
  }
  const agents = [...state.intents.keys()].sort();
  const out: ConflictView[] = [];
  for (let i = 0; i < agents.length; i++) {
    for (let j = i + 1; j < agents.length; j++) {
      const files = sharedFiles(
        state.intents.get(agents[i]!)!,
        state.intents.get(agents[j]!)!,
      );
      if (files.length === 0) continue;
      out.push({
        shape: "forward",
        branches: [agents[i]!, agents[j]!],
        files,
        detected_at: Math.floor(nowMs / 1000),
      });
    }
  }
  return out;
}

function sharedFiles(a: LiveIntent, b: LiveIntent): string[] {
  const out: string[] = [];
  for (const [path, regions] of a.files) {
    if (!b.files.has(path)) continue;
    const o = overlapRegions(regions, b.files.get(path)!);
    if (!o.conflict) continue;
    out.push(o.regions.length ? `${path} [${o.regions.join(", ")}]` : path);
  }
  return out.sort();
}

async function logEntries(ctx: McpContext): Promise<LogEntry[]> {
  const b = await ctx.broker();
  if (!b) return [];
  return await fetchLog(b, ctx.log) ?? [];
}

/** The `get_session_status` snapshot. */
export type SessionSnapshot = {
  name: string;
  mode: string;
  status: string;
  paused: boolean;
  agent_count: number;
  broker_url?: string;
  agents: Array<{
    branch: string;
    cli: string;
    /** Live roster label ("" when the broker cannot be reached). */
    status: string;
    last_seen_seconds?: number;
  }>;
};

async function snapshot(ctx: McpContext): Promise<SessionSnapshot | null> {
  const r = await ctx.session();
  if (!r) return null;
  const b = await ctx.broker();
  const live = b ? await fetchStatusAgents(b, ctx.log) ?? [] : [];
  return {
    name: r.session_name,
    mode: r.mode,
    status: r.status,
    paused: r.status === "paused",
    agent_count: r.worktrees.length,
    ...(b ? { broker_url: b.url } : {}),
    agents: r.worktrees.map((w) => {
      const row = live.find((a) => a.agent_id === slugify(w.branch));
      return {
        branch: w.branch,
        cli: w.cli,
        status: row?.status ?? "",
        ...(row ? { last_seen_seconds: row.last_seen_seconds } : {}),
      };
    }),
  };
}

/** One section of the learnings file. */
export type LearningsSection = { category: string; entries: string[] };

/**
 * Parse `session-learnings.md`: every `### ` heading (merged across the
 * `## Session Learnings` blocks) with its non-blank lines, list markers
 * stripped. The canonical sections are always present, in file order.
 */
export function parseLearnings(text: string | null): LearningsSection[] {
  const order: string[] = [...LEARNING_SECTIONS];
  const map = new Map<string, string[]>(order.map((c) => [c, []]));
  let cur: string | null = null;
  for (const line of (text ?? "").split("\n")) {
    if (line.startsWith("### ")) {
      cur = line.slice(4).trim();
      if (!map.has(cur)) {
        map.set(cur, []);
        order.push(cur);
      }
      continue;
    }
    if (line.startsWith("## ")) {
      cur = null;
      continue;
    }
    const t = line.trim();
    if (cur === null || t === "") continue;
    map.get(cur)!.push(t.replace(/^[-*] /, ""));
  }
  return order.map((category) => ({ category, entries: map.get(category)! }));
}

/** The session tools. */
export const SESSION_TOOLS: ToolDef[] = [
  defineTool("get_intents", {
    description:
      "Live agent intents of this repo's session (latest per agent, unexpired): branch_id, files, regions, summary, published_at, valid_for_seconds. Empty without an active session.",
    input: {},
    run: async (ctx) => ({
      intents: liveIntents(await logEntries(ctx), ctx.now()),
    }),
  }),
  defineTool("get_intent", {
    description: 'The live intent of one agent, or {"intent": null}.',
    input: { branch_id: z.string().describe("agent id (slug) or branch name") },
    run: async (ctx, a) => {
      const id = slugify(a.branch_id);
      const all = liveIntents(await logEntries(ctx), ctx.now());
      return { intent: all.find((i) => i.branch_id === id) ?? null };
    },
  }),
  defineTool("get_conflicts", {
    description:
      "Forward conflicts between live intents (same file, overlapping regions), re-detected from the broker log: shape, branches, files, detected_at. Empty without an active session.",
    input: {},
    run: async (ctx) => ({
      conflicts: forwardConflicts(await logEntries(ctx), ctx.now()),
    }),
  }),
  defineTool("get_session_status", {
    description:
      'The session of this repo: name, mode, status, paused, agent_count, broker_url and each agent (live status from the broker when reachable). {"session": null} when there is none.',
    input: {},
    run: async (ctx) => ({ session: await snapshot(ctx) }),
  }),
  defineTool("get_session_summary", {
    description:
      'Name, status, agent count and agents per status of the session, or {"summary": null}.',
    input: {},
    run: async (ctx) => {
      const s = await snapshot(ctx);
      if (!s) return { summary: null };
      const by: Record<string, number> = {};
      for (const a of s.agents) {
        if (a.status) by[a.status] = (by[a.status] ?? 0) + 1;
      }
      return {
        summary: {
          name: s.name,
          status: s.status,
          agent_count: s.agent_count,
          agents_by_status: Object.fromEntries(
            Object.entries(by).sort(([x], [y]) => (x < y ? -1 : 1)),
          ),
        },
      };
    },
  }),
  defineTool("get_learnings", {
    description:
      "The sections of .git-paw/session-learnings.md (category and entries); the canonical sections are empty when there is no file.",
    input: {},
    run: async (ctx) => ({
      sections: parseLearnings(
        await readTextOrNull(
          join(ctx.repo, ".git-paw", "session-learnings.md"),
        ),
      ),
    }),
  }),
];
