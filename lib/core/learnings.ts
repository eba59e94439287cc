/**
 * Session learnings (docs/REFERENCE.md, "Learnings"): an aggregator that watches broker messages,
 * turns recurring signals into short entries, and renders each flush as an
 * append-only block of `<repo>/.git-paw/session-learnings.md`. Pure: time is
 * passed in, the shell writes the file and publishes the records.
 *
 * Signals: stuck (blocked → next artifact), recovery (feedback cycles before
 * verified), conflicts (the detector's `[conflict-detector]` texts), permission
 * patterns (`auto_approved` statuses), and qualitative `agent.learning`s.
 * @module
 */
import { createHash } from "node:crypto";
import type { BrokerMessage, LearningMessage } from "./messages.ts";
import { SUPERVISOR_ID } from "./slug.ts";
import { CONFLICT_PREFIX } from "./conflict.ts";
import { formatDuration } from "./duration.ts";

/** H3 sections in file order. */
export const LEARNING_SECTIONS = [
  "Conflict events",
  "Where agents got stuck",
  "Recovery cycles",
  "Permission patterns",
  "Recurring failure shapes",
  "Documentation gaps",
  "ADR / architectural drift",
  "Scope-mistake signals",
  "Other learnings",
] as const;
/** One of {@link LEARNING_SECTIONS}. */
export type LearningSection = typeof LEARNING_SECTIONS[number];

/** Categories the aggregator derives itself (and may publish). */
const DETERMINISTIC_CATEGORIES = [
  "conflict_event",
  "stuck_duration",
  "recovery_cycles",
  "permission_pattern",
] as const;

const SECTION_OF: Record<string, LearningSection> = {
  conflict_event: "Conflict events",
  stuck_duration: "Where agents got stuck",
  recovery_cycles: "Recovery cycles",
  permission_pattern: "Permission patterns",
  recurring_failure_shape: "Recurring failure shapes",
  doc_gap: "Documentation gaps",
  adr_drift: "ADR / architectural drift",
  scope_mistake: "Scope-mistake signals",
};

/** Section a category is filed under. */
function sectionOf(category: string): LearningSection {
  return SECTION_OF[category] ?? "Other learnings";
}

/** Aggregator options. */
export type LearningsOptions = {
  /** Publish new deterministic entries as `agent.learning` records. */
  brokerPublish: boolean;
  /** Process start (ms), shown in the header. */
  startedAt: number;
  /** Optional agent → spec id map (forward conflicts: intra- vs cross-spec). */
  specOf?: Record<string, string>;
  /** Permission class count needed before it is reported (default 5). */
  permissionThreshold?: number;
};

/** One pending entry. */
export type LearningEntry = {
  category: string;
  /** Agent the entry is about (stuck/recovery), else null. */
  branch: string | null;
  /** The line text without `- `. */
  title: string;
  /** When it was observed (ms). */
  at: number;
  /** Publish it as an `agent.learning` record (deterministic ones only). */
  publish: boolean;
};

/** What one flush produced. */
export type LearningsFlush = {
  /** Text to append to the file, or null when nothing is new. */
  text: string | null;
  /** Records to publish (empty when broker publish is off). */
  publish: LearningMessage[];
};

/** `YYYY-MM-DDTHH:MM:SSZ` of a ms timestamp. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A stuck time in the learnings file's form: `11m12s`, `1h02m03s`. */
function stuckFor(ms: number): string {
  return formatDuration(Math.round(ms / 1000), { precise: true });
}

/**
 * Deterministic learning id: the first 16 hex digits of
 * SHA-256(`category|branch|canonical body|UTC hour`).
 */
export function learningId(
  category: string,
  branch: string | null,
  body: string,
  atMs: number,
): string {
  const canonical = body.trim().replace(/\s+/g, " ");
  const hour = new Date(atMs).toISOString().slice(0, 13);
  return createHash("sha256")
    .update(`${category}|${branch ?? ""}|${canonical}|${hour}`)
    .digest("hex").slice(0, 16);
}

/** True when `id` occurs in `text` as a whole agent-id token. */
export function mentionsAgent(text: string, id: string): boolean {
  let from = 0;
  for (;;) {
    const i = text.indexOf(id, from);
    if (i < 0) return false;
    const before = i === 0 ? "" : text[i - 1]!;
    const after = text[i + id.length] ?? "";
    if (!/[a-z0-9_-]/.test(before) && !/[a-z0-9_-]/.test(after)) return true;
    from = i + 1;
  }
}

type Conflict =
  | { kind: "forward"; a: string; b: string }
  | { kind: "in-flight"; a: string; b: string }
  | { kind: "ownership"; violator: string; file: string; owner: string };

function firstLine(s: string): string {
  return (s.split("\n").find((l) => l.trim() !== "") ?? "").trim();
}

/**
 * Collects signals and renders flushes. Feed every broker message to
 * {@link LearningsAggregator.observe}; call {@link LearningsAggregator.flush}
 * on the cadence and {@link LearningsAggregator.flushAtShutdown} once at the end.
 */
export class LearningsAggregator {
  readonly #opts: LearningsOptions;
  readonly #agents = new Set<string>();
  readonly #pending: LearningEntry[] = [];
  readonly #seen = new Set<string>();
  readonly #blocked = new Map<string, { since: number; from: string }>();
  readonly #feedback = new Map<string, number>();
  readonly #permissions = new Map<string, number>();
  readonly #permissionsReported = new Map<string, number>();
  readonly #ownIds = new Set<string>();
  #headerWritten = false;

  constructor(opts: LearningsOptions) {
    this.#opts = opts;
  }

  /** Make an agent id known (used to find the other party in conflict texts). */
  registerAgent(id: string): void {
    if (id !== SUPERVISOR_ID) this.#agents.add(id);
  }

  /** Entries waiting for the next flush. */
  pending(): readonly LearningEntry[] {
    return this.#pending;
  }

  #add(entry: Omit<LearningEntry, "publish">): void {
    const key = `${entry.category}|${entry.branch ?? ""}|${entry.title}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    if (this.#seen.size > 20000) {
      this.#seen.delete(this.#seen.values().next().value!);
    }
    this.#pending.push({
      ...entry,
      publish: (DETERMINISTIC_CATEGORIES as readonly string[]).includes(
        entry.category,
      ),
    });
  }

  /** Feed one message observed at `now` (ms). */
  observe(msg: BrokerMessage, now: number): void {
    switch (msg.type) {
      case "agent.status":
      case "agent.intent":
        this.registerAgent(msg.agent_id);
        if (
          msg.type === "agent.status" && msg.payload.status === "auto_approved"
        ) {
          const m = /auto_approved: matched (.+)$/s.exec(
            msg.payload.message ?? "",
          );
          const cls = m?.[1]?.trim();
          if (cls) {
            this.#permissions.set(cls, (this.#permissions.get(cls) ?? 0) + 1);
          }
        }
        return;
      case "agent.blocked":
        this.registerAgent(msg.agent_id);
        if (!this.#blocked.has(msg.agent_id)) {
          this.#blocked.set(msg.agent_id, {
            since: now,
            from: msg.payload.from,
          });
        }
        return;
      case "agent.artifact": {
        this.registerAgent(msg.agent_id);
        const b = this.#blocked.get(msg.agent_id);
        if (b) {
          this.#blocked.delete(msg.agent_id);
          this.#add({
            category: "stuck_duration",
            branch: msg.agent_id,
            title: `${msg.agent_id}: blocked ${
              stuckFor(now - b.since)
            } waiting on ${b.from}`,
            at: now,
          });
        }
        return;
      }
      case "agent.feedback": {
        const text = msg.payload.errors.join("\n");
        if (
          msg.payload.from === SUPERVISOR_ID && text.includes(CONFLICT_PREFIX)
        ) {
          for (const line of msg.payload.errors) {
            const c = this.#parseConflict(line, msg.agent_id);
            if (c) this.#addConflict(c, now);
          }
          return;
        }
        this.#feedback.set(
          msg.agent_id,
          (this.#feedback.get(msg.agent_id) ?? 0) + 1,
        );
        return;
      }
      case "agent.question": {
        if (msg.payload.question.startsWith(CONFLICT_PREFIX)) {
          const c = this.#parseConflict(msg.payload.question, null);
          if (c) this.#addConflict(c, now);
        }
        return;
      }
      case "agent.verified": {
        const n = this.#feedback.get(msg.agent_id) ?? 0;
        this.#feedback.delete(msg.agent_id);
        if (n >= 1) {
          this.#add({
            category: "recovery_cycles",
            branch: msg.agent_id,
            title: `${msg.agent_id}: ${n} feedback ${
              n === 1 ? "cycle" : "cycles"
            } before verifying`,
            at: now,
          });
        }
        return;
      }
      case "agent.learning": {
        const p = msg.payload;
        if (this.#ownIds.has(p.id)) return;
        const who = p.branch_id ?? p.agent_id;
        const body = firstLine(p.body);
        const primary = (body || p.title).toLowerCase().replace(/\s+/g, " ");
        const key = `q|${p.category}|${primary}`;
        if (this.#seen.has(key)) return;
        this.#seen.add(key);
        this.#pending.push({
          category: p.category,
          branch: p.branch_id,
          title: `${who}: ${p.title}${
            body && body !== p.title ? ` — ${body}` : ""
          }`,
          at: now,
          publish: false,
        });
        return;
      }
      default:
        return;
    }
  }

  #parseConflict(text: string, recipient: string | null): Conflict | null {
    let m = /forward conflict: agent (\S+) also intends/.exec(text);
    if (m && recipient) return { kind: "forward", a: recipient, b: m[1]! };
    m =
      /in-flight conflict: file .* is being modified by both you and (\S+?)\.?$/s
        .exec(text);
    if (m && recipient) return { kind: "in-flight", a: recipient, b: m[1]! };
    m = /in-flight conflict with (\S+) on /.exec(text);
    if (m && recipient) return { kind: "in-flight", a: recipient, b: m[1]! };
    m = /in-flight conflict on .* between (\S+) and (\S+) has not resolved/s
      .exec(text);
    if (m) return { kind: "in-flight", a: m[1]!, b: m[2]! };
    m = /ownership violation: you edited (.+) but agent (\S+) declared intent/s
      .exec(text);
    if (m && recipient) {
      return {
        kind: "ownership",
        violator: recipient,
        file: m[1]!,
        owner: m[2]!,
      };
    }
    m = /ownership violation: (\S+) edited (.+) which is in (\S+?)'s intent/s
      .exec(text);
    if (m) {
      return { kind: "ownership", violator: m[1]!, file: m[2]!, owner: m[3]! };
    }
    // Unknown wording: find another known agent as a whole token.
    if (!recipient) return null;
    const other = [...this.#agents].sort().find((id) =>
      id !== recipient && mentionsAgent(text, id)
    );
    if (!other) return null;
    if (/forward/i.test(text)) {
      return { kind: "forward", a: recipient, b: other };
    }
    return { kind: "in-flight", a: recipient, b: other };
  }

  #addConflict(c: Conflict, now: number): void {
    if (c.kind === "ownership") {
      this.#add({
        category: "conflict_event",
        branch: null,
        title:
          `ownership-violation: ${c.violator} edited \`${c.file}\` owned by ${c.owner}`,
        at: now,
      });
      return;
    }
    const [a, b] = c.a < c.b ? [c.a, c.b] : [c.b, c.a];
    let label: string = `${c.kind}-conflict`;
    let suffix = "";
    if (c.kind === "forward") {
      const sa = this.#opts.specOf?.[a];
      const sb = this.#opts.specOf?.[b];
      if (sa && sb) {
        label = sa === sb
          ? "forward-conflict-intra-spec"
          : "forward-conflict-cross-spec";
        suffix = sa === sb ? ` (spec ${sa})` : ` (specs ${sa}, ${sb})`;
      }
    }
    this.#add({
      category: "conflict_event",
      branch: null,
      title: `${label}: ${a} and ${b}${suffix}`,
      at: now,
    });
  }

  #permissionEntries(now: number): void {
    const threshold = this.#opts.permissionThreshold ?? 5;
    for (const [cls, n] of [...this.#permissions].sort()) {
      if (n < threshold || n <= (this.#permissionsReported.get(cls) ?? 0)) {
        continue;
      }
      this.#permissionsReported.set(cls, n);
      this.#add({
        category: "permission_pattern",
        branch: null,
        title: `\`${cls}\` auto-approved ${n} times`,
        at: now,
      });
    }
  }

  /** Render and clear everything new since the last flush. */
  flush(now: number): LearningsFlush {
    this.#permissionEntries(now);
    return this.#render();
  }

  /** Like {@link flush}, first closing open stuck timers and feedback counts. */
  flushAtShutdown(now: number): LearningsFlush {
    for (const [agent, b] of [...this.#blocked].sort()) {
      this.#add({
        category: "stuck_duration",
        branch: agent,
        title: `${agent}: blocked ${
          stuckFor(now - b.since)
        } waiting on ${b.from} (unresolved at session end)`,
        at: now,
      });
    }
    this.#blocked.clear();
    for (const [agent, n] of [...this.#feedback].sort()) {
      this.#add({
        category: "recovery_cycles",
        branch: agent,
        title: `${agent}: ${n} feedback ${
          n === 1 ? "cycle" : "cycles"
        } (not verified by session end)`,
        at: now,
      });
    }
    this.#feedback.clear();
    return this.flush(now);
  }

  #render(): LearningsFlush {
    const entries = this.#pending.splice(0);
    if (entries.length === 0) return { text: null, publish: [] };
    const blocks: string[] = [];
    if (!this.#headerWritten) {
      this.#headerWritten = true;
      blocks.push(`## Session Learnings — ${isoSeconds(this.#opts.startedAt)}`);
    }
    for (const section of LEARNING_SECTIONS) {
      const mine = entries.filter((e) => sectionOf(e.category) === section);
      if (mine.length === 0) continue;
      blocks.push(
        [`### ${section}`, ...mine.map((e) => `- ${e.title}`)].join("\n"),
      );
    }
    const publish: LearningMessage[] = [];
    if (this.#opts.brokerPublish) {
      for (const e of entries) {
        if (!e.publish) continue;
        const id = learningId(e.category, e.branch, e.title, e.at);
        this.#ownIds.add(id);
        if (this.#ownIds.size > 20000) {
          this.#ownIds.delete(this.#ownIds.values().next().value!);
        }
        publish.push({
          type: "agent.learning",
          payload: {
            id,
            agent_id: SUPERVISOR_ID,
            branch_id: e.branch,
            category: e.category,
            title: e.title,
            body: e.title,
            timestamp: isoSeconds(e.at),
          },
        });
      }
    }
    return { text: blocks.join("\n\n") + "\n", publish };
  }
}
