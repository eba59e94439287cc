/**
 * Conflict detection (docs/REFERENCE.md, "Conflict detection") as a pure reducer: broker log entries and
 * clock ticks go in, new state plus messages to publish come out. Time is
 * always passed in (milliseconds since the epoch).
 *
 * Three rules:
 * - **forward** — two live `agent.intent`s name the same path (and, when both
 *   carry regions, the regions intersect): feedback to both agents, once per
 *   pair until either intent changes or expires;
 * - **in-flight** — two agents list the same file in `agent.status`
 *   `modified_files`: feedback to both once per (pair, file); still present
 *   after the window → one `agent.question` to the supervisor;
 * - **ownership** — an agent modifies a file that another agent's live intent
 *   claims and its own does not: feedback to it (and optionally a question),
 *   once per (agent, file) while the owning intent lives.
 *
 * State is bounded: expired intents are dropped on every step, warned sets
 * are pruned when the files or intents they refer to go away, and every
 * collection has a hard cap.
 * @module
 */
import type { LogEntry } from "./broker_types.ts";
import type {
  BrokerMessage,
  FeedbackMessage,
  IntentFile,
  QuestionMessage,
  Region,
} from "./messages.ts";
import { SUPERVISOR_ID } from "./slug.ts";
import { saysNothingAboutFiles } from "./cli_events.ts";

/** Prefix of every text the detector writes. */
export const CONFLICT_PREFIX = "[conflict-detector]";

/** Tunables (`[supervisor.conflict]`, docs/REFERENCE.md, "Configuration"). */
export type ConflictOptions = {
  /** In-flight overlap age (seconds) after which a question is raised. */
  windowSeconds: number;
  /** Run the forward (intent overlap) rule. */
  warnOnIntentOverlap: boolean;
  /** Also raise a question on ownership violations. */
  escalateOnViolation: boolean;
  /** Cap on files remembered per agent (default 5000). */
  maxFilesPerAgent?: number;
  /** Cap on tracked in-flight overlaps and warned violations (default 10000). */
  maxTracked?: number;
};

/** Default options (docs/REFERENCE.md, "Configuration"). */
export const DEFAULT_CONFLICT_OPTIONS: ConflictOptions = {
  windowSeconds: 120,
  warnOnIntentOverlap: true,
  escalateOnViolation: true,
};

/** One live intent of an agent. */
export type LiveIntent = {
  /** path → regions (null = the whole file). */
  files: Map<string, Region[] | null>;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
  /** Canonical form of the file set; a change re-arms the agent's pairs. */
  key: string;
};

/** One tracked in-flight overlap. */
export type InFlight = {
  a: string;
  b: string;
  file: string;
  /** When the overlap was first seen (ms). */
  since: number;
  escalated: boolean;
};

/** Detector state. Treat as opaque; create with {@link initialConflictState}. */
export type ConflictState = {
  intents: Map<string, LiveIntent>;
  /** agent → files from its latest `agent.status`. */
  modified: Map<string, Set<string>>;
  /** Sorted pair keys `a\u0000b` already warned by the forward rule. */
  forwardWarned: Set<string>;
  /** `a\u0000b\u0000file` → overlap. */
  inFlight: Map<string, InFlight>;
  /** `agent\u0000file` → owner, violations already reported. */
  violations: Map<string, string>;
};

/** A message the shell should publish. */
export type ConflictEffect = {
  kind: "publish";
  message: FeedbackMessage | QuestionMessage;
};

/** What the reducer consumes. */
export type ConflictEvent =
  | { kind: "entry"; entry: LogEntry }
  | { kind: "tick" };

/** Result of one reducer step. */
export type ConflictStep = {
  state: ConflictState;
  effects: ConflictEffect[];
};

/** An empty detector state. */
export function initialConflictState(): ConflictState {
  return {
    intents: new Map(),
    modified: new Map(),
    forwardWarned: new Set(),
    inFlight: new Map(),
    violations: new Map(),
  };
}

const SEP = "\u0000";

function pairKey(a: string, b: string): string {
  return a < b ? `${a}${SEP}${b}` : `${b}${SEP}${a}`;
}

function feedback(to: string, text: string): ConflictEffect {
  return {
    kind: "publish",
    message: {
      type: "agent.feedback",
      agent_id: to,
      payload: { from: SUPERVISOR_ID, errors: [text] },
    },
  };
}

function question(text: string): ConflictEffect {
  return {
    kind: "publish",
    message: {
      type: "agent.question",
      agent_id: SUPERVISOR_ID,
      payload: { question: text },
    },
  };
}

/** Human text for one region. */
function describeRegion(r: Region): string {
  switch (r.kind) {
    case "function":
      return `function ${r.name}`;
    case "class":
      return `class ${r.name}`;
    case "block":
      return `block ${r.anchor}`;
    case "range":
      return `lines ${r.start_line}-${r.end_line}`;
  }
}

/** Result of comparing two region lists on one shared path. */
export type RegionOverlap = {
  /** True when the two sides may touch the same code. */
  conflict: boolean;
  /** Intersections, already described (empty when a side has no regions). */
  regions: string[];
  /** Extra explanation, e.g. for named-vs-range comparisons. */
  hint: string | null;
};

/**
 * Compare the regions two intents declare for the same path. No regions on
 * either side means the whole file, hence a conflict. Same-kind names conflict
 * when equal; line ranges conflict when they overlap (reported as the
 * intersection); a named region against a range cannot be checked and always
 * conflicts, with a hint.
 */
export function overlapRegions(
  a: Region[] | null,
  b: Region[] | null,
): RegionOverlap {
  if (!a || a.length === 0 || !b || b.length === 0) {
    return { conflict: true, regions: [], hint: null };
  }
  const out: string[] = [];
  let crossKind = false;
  for (const x of a) {
    for (const y of b) {
      if (x.kind === "range" && y.kind === "range") {
        const start = Math.max(x.start_line, y.start_line);
        const end = Math.min(x.end_line, y.end_line);
        if (start <= end) {
          out.push(
            describeRegion({ kind: "range", start_line: start, end_line: end }),
          );
        }
      } else if (x.kind === "range" || y.kind === "range") {
        crossKind = true;
        const named = x.kind === "range" ? y : x;
        const range = x.kind === "range" ? x : y;
        out.push(`${describeRegion(named)} vs ${describeRegion(range)}`);
      } else if (x.kind === y.kind && regionName(x) === regionName(y)) {
        out.push(describeRegion(x));
      }
    }
  }
  const regions = [...new Set(out)];
  return {
    conflict: regions.length > 0,
    regions,
    hint: crossKind
      ? "a named region and a line range cannot be compared exactly; check the file together"
      : null,
  };
}

function regionName(r: Exclude<Region, { kind: "range" }>): string {
  return r.kind === "block" ? r.anchor : r.name;
}

function intentFiles(files: IntentFile[]): Map<string, Region[] | null> {
  const m = new Map<string, Region[] | null>();
  for (const f of files) {
    const path = typeof f === "string" ? f : f.path;
    const regions = typeof f === "string" ? null : f.regions ?? null;
    const prev = m.get(path);
    if (prev === undefined) {
      m.set(path, regions && regions.length ? regions : null);
    } else if (prev !== null) {
      // Same path listed twice: merge regions; "whole file" wins.
      m.set(path, regions && regions.length ? [...prev, ...regions] : null);
    }
  }
  return m;
}

function canonicalKey(files: Map<string, Region[] | null>): string {
  return JSON.stringify(
    [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

function cap<K, V>(m: Map<K, V>, max: number): void {
  while (m.size > max) {
    const first = m.keys().next();
    if (first.done) break;
    m.delete(first.value);
  }
}

/**
 * Drop expired intents (and everything keyed on them). Mutates `s`.
 */
function expire(s: ConflictState, now: number): void {
  for (const [agent, intent] of s.intents) {
    if (intent.expiresAt <= now) dropIntent(s, agent);
  }
}

function dropIntent(s: ConflictState, agent: string): void {
  s.intents.delete(agent);
  clearForwardPairs(s, agent);
  for (const [key, owner] of s.violations) {
    if (owner === agent) s.violations.delete(key);
  }
}

function clearForwardPairs(s: ConflictState, agent: string): void {
  for (const key of s.forwardWarned) {
    const [a, b] = key.split(SEP);
    if (a === agent || b === agent) s.forwardWarned.delete(key);
  }
}

function onIntent(
  s: ConflictState,
  agent: string,
  files: IntentFile[],
  ttlSeconds: number,
  receivedAt: number,
  opts: ConflictOptions,
): ConflictEffect[] {
  const map = intentFiles(files);
  const key = canonicalKey(map);
  const prev = s.intents.get(agent);
  if (!prev || prev.key !== key) clearForwardPairs(s, agent);
  if (prev) {
    // Violations owned by the old intent stay only for files still claimed.
    for (const [vk, owner] of s.violations) {
      if (owner === agent && !map.has(vk.split(SEP)[1]!)) {
        s.violations.delete(vk);
      }
    }
  }
  s.intents.set(agent, {
    files: map,
    expiresAt: receivedAt + ttlSeconds * 1000,
    key,
  });
  if (!opts.warnOnIntentOverlap) return [];
  const effects: ConflictEffect[] = [];
  const others = [...s.intents.keys()].filter((o) => o !== agent).sort();
  for (const other of others) {
    const pk = pairKey(agent, other);
    if (s.forwardWarned.has(pk)) continue;
    const theirs = s.intents.get(other)!;
    const parts: string[] = [];
    for (const [path, regions] of [...map.entries()].sort()) {
      if (!theirs.files.has(path)) continue;
      const o = overlapRegions(regions, theirs.files.get(path)!);
      if (!o.conflict) continue;
      let part = path;
      if (o.regions.length) part += ` (regions: ${o.regions.join(", ")})`;
      if (o.hint) part += ` [hint: ${o.hint}]`;
      parts.push(part);
    }
    if (parts.length === 0) continue;
    s.forwardWarned.add(pk);
    const body = parts.join("; ");
    effects.push(
      feedback(
        agent,
        `${CONFLICT_PREFIX} forward conflict: agent ${other} also intends to modify: ${body}`,
      ),
      feedback(
        other,
        `${CONFLICT_PREFIX} forward conflict: agent ${agent} also intends to modify: ${body}`,
      ),
    );
  }
  return effects;
}

function onStatus(
  s: ConflictState,
  agent: string,
  files: string[],
  now: number,
  opts: ConflictOptions,
): ConflictEffect[] {
  const maxFiles = opts.maxFilesPerAgent ?? 5000;
  const before = s.modified.get(agent);
  if (before !== undefined && listsExactly(files, maxFiles, before)) {
    // A heartbeat: the same files again. Nothing to build or compare.
    s.modified.delete(agent); // re-insert: keeps the map in recency order
    s.modified.set(agent, before);
    return s.intents.size > 0 ? violations(s, agent, before, opts) : [];
  }
  const set = new Set(files.slice(0, maxFiles));
  s.modified.delete(agent); // re-insert: keeps the map in recency order
  if (set.size) s.modified.set(agent, set);
  const effects: ConflictEffect[] = [];
  // The same files as this agent's last status (a heartbeat): every overlap
  // with them was found then, or by the other agent's later status.
  const same = before !== undefined ? sameSet(before, set) : set.size === 0;
  if (!same) effects.push(...newOverlaps(s, agent, set, now, opts));
  if (s.intents.size > 0) effects.push(...violations(s, agent, set, opts));
  return effects;
}

/**
 * True when the first `max` of `files` are exactly the members of `set`
 * (what `new Set(files.slice(0, max))` would equal), checked without
 * building it: short lists are checked for repeats pairwise, longer ones
 * are left to the caller (false).
 */
function listsExactly(
  files: readonly string[],
  max: number,
  set: ReadonlySet<string>,
): boolean {
  const n = Math.min(files.length, max);
  if (n !== set.size || n > 16) return false;
  for (let i = 0; i < n; i++) {
    const f = files[i]!;
    if (!set.has(f)) return false;
    for (let j = 0; j < i; j++) if (files[j] === f) return false;
  }
  return true;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Overlaps of `agent`'s new file set with the others' (and stale ones dropped). */
function newOverlaps(
  s: ConflictState,
  agent: string,
  set: ReadonlySet<string>,
  now: number,
  opts: ConflictOptions,
): ConflictEffect[] {
  const maxTracked = opts.maxTracked ?? 10000;
  const effects: ConflictEffect[] = [];
  // Drop overlaps involving this agent on files it no longer lists.
  for (const [k, f] of s.inFlight) {
    if ((f.a === agent || f.b === agent) && !set.has(f.file)) {
      s.inFlight.delete(k);
    }
  }
  // New overlaps.
  const others = [...s.modified.keys()].filter((o) => o !== agent).sort();
  for (const file of [...set].sort()) {
    for (const other of others) {
      if (!s.modified.get(other)!.has(file)) continue;
      const [a, b] = agent < other ? [agent, other] : [other, agent];
      const k = `${a}${SEP}${b}${SEP}${file}`;
      if (s.inFlight.has(k)) continue;
      s.inFlight.set(k, { a, b, file, since: now, escalated: false });
      effects.push(
        feedback(
          agent,
          `${CONFLICT_PREFIX} in-flight conflict: file ${file} is being modified by both you and ${other}`,
        ),
        feedback(
          other,
          `${CONFLICT_PREFIX} in-flight conflict: file ${file} is being modified by both you and ${agent}`,
        ),
      );
    }
  }
  cap(s.inFlight, maxTracked);
  return effects;
}

/** Files in `set` that another agent declared its intent over. */
function violations(
  s: ConflictState,
  agent: string,
  set: ReadonlySet<string>,
  opts: ConflictOptions,
): ConflictEffect[] {
  const maxTracked = opts.maxTracked ?? 10000;
  const effects: ConflictEffect[] = [];
  const mine = s.intents.get(agent);
  for (const file of [...set].sort()) {
    if (mine?.files.has(file)) continue;
    const vk = `${agent}${SEP}${file}`;
    if (s.violations.has(vk)) continue;
    const owner = [...s.intents.keys()].sort().find((o) =>
      o !== agent && s.intents.get(o)!.files.has(file)
    );
    if (!owner) continue;
    s.violations.set(vk, owner);
    effects.push(
      feedback(
        agent,
        `${CONFLICT_PREFIX} ownership violation: you edited ${file} but agent ${owner} declared intent over it. Update your agent.intent to declare this file or back off.`,
      ),
    );
    if (opts.escalateOnViolation) {
      effects.push(
        question(
          `${CONFLICT_PREFIX} ownership violation: ${agent} edited ${file} which is in ${owner}'s intent. Human review requested.`,
        ),
      );
    }
  }
  cap(s.violations, maxTracked);
  return effects;
}

function escalate(
  s: ConflictState,
  now: number,
  opts: ConflictOptions,
): ConflictEffect[] {
  const effects: ConflictEffect[] = [];
  const window = opts.windowSeconds * 1000;
  for (const f of s.inFlight.values()) {
    if (f.escalated || now - f.since < window) continue;
    f.escalated = true;
    effects.push(
      question(
        `${CONFLICT_PREFIX} in-flight conflict on ${f.file} between ${f.a} and ${f.b} has not resolved within ${opts.windowSeconds}s. Human input requested.`,
      ),
    );
  }
  return effects;
}

/**
 * True when `next`, reduced right after `prev` (one step, same `now`),
 * cannot change `state` nor produce an effect: both are the same agent's
 * status with the same label, no detail and the same files, and no intent
 * is held (intents alone make a repeated status matter: violations, and
 * expiry at a later `now`). The detector skips such repeats within one
 * written batch; `prev`'s step already did everything `next`'s would.
 */
export function repeatsStatus(
  state: ConflictState,
  prev: BrokerMessage,
  next: BrokerMessage,
): boolean {
  if (state.intents.size > 0) return false;
  if (prev.type !== "agent.status" || next.type !== "agent.status") {
    return false;
  }
  if (prev.agent_id !== next.agent_id) return false;
  const a = prev.payload;
  const b = next.payload;
  if (a.status !== b.status) return false;
  if (a.detail !== undefined || b.detail !== undefined) return false;
  const fa = a.modified_files;
  const fb = b.modified_files;
  if (fa.length !== fb.length) return false;
  for (let i = 0; i < fa.length; i++) if (fa[i] !== fb[i]) return false;
  return true;
}

/** True for messages the detector itself produced (never re-processed). */
function isDetectorOutput(msg: BrokerMessage): boolean {
  if (msg.type === "agent.feedback") return msg.payload.from === SUPERVISOR_ID;
  if (msg.type === "agent.question") return msg.agent_id === SUPERVISOR_ID;
  return false;
}

/**
 * One reducer step. `now` is the wall clock in ms; an entry's own receipt
 * time (its `timestamp_unix_secs`) dates intents, so replaying the log gives
 * the same expiries. Mutates and returns `state` (callers own it).
 *
 * @example
 * ```ts
 * import { initialConflictState, reduceConflict, DEFAULT_CONFLICT_OPTIONS } from "./conflict.ts";
 * const s = initialConflictState();
 * const { effects } = reduceConflict(s, { kind: "tick" }, 0, DEFAULT_CONFLICT_OPTIONS);
 * effects.length; // 0
 * ```
 */
export function reduceConflict(
  state: ConflictState,
  event: ConflictEvent,
  now: number,
  opts: ConflictOptions,
): ConflictStep {
  expire(state, now);
  const effects = escalate(state, now, opts);
  if (event.kind === "entry") {
    const msg = event.entry.message;
    if (!isDetectorOutput(msg)) {
      if (msg.type === "agent.intent") {
        const receivedAt = event.entry.timestamp_unix_secs * 1000;
        if (receivedAt + msg.payload.valid_for_seconds * 1000 > now) {
          effects.push(
            ...onIntent(
              state,
              msg.agent_id,
              msg.payload.files,
              msg.payload.valid_for_seconds,
              receivedAt,
              opts,
            ),
          );
        }
      } else if (msg.type === "agent.status") {
        const files = msg.payload.modified_files;
        // Only a report of the working set replaces it: the watcher's
        // `working` status, or any status that lists files. Other statuses
        // (`auto_approved`, a bare `done`) and what a CLI's hook or the
        // screen detector reports (`needs_input`, `working`) say nothing
        // about files.
        if (
          !saysNothingAboutFiles(msg.payload.detail) &&
          (files.length > 0 || msg.payload.status === "working")
        ) {
          effects.push(...onStatus(state, msg.agent_id, files, now, opts));
        }
      } else if (
        msg.type === "agent.artifact" && msg.payload.status === "committed"
      ) {
        // Committed files are no longer in flight.
        const cur = state.modified.get(msg.agent_id);
        if (cur && msg.payload.modified_files.length) {
          const left = [...cur].filter((f) =>
            !msg.payload.modified_files.includes(f)
          );
          effects.push(...onStatus(state, msg.agent_id, left, now, opts));
        }
      }
    }
  }
  return { state, effects };
}

/**
 * When the next in-flight escalation is due (ms), or null if none is pending.
 * The shell sets one timer for it; nothing else needs a clock.
 */
export function nextConflictDeadline(
  state: ConflictState,
  opts: ConflictOptions,
): number | null {
  let next: number | null = null;
  for (const f of state.inFlight.values()) {
    if (f.escalated) continue;
    const due = f.since + opts.windowSeconds * 1000;
    if (next === null || due < next) next = due;
  }
  return next;
}

/** Sizes of the state's collections (for tests and diagnostics). */
export function conflictStateSize(
  state: ConflictState,
): Record<string, number> {
  return {
    intents: state.intents.size,
    modified: state.modified.size,
    forwardWarned: state.forwardWarned.size,
    inFlight: state.inFlight.size,
    violations: state.violations.size,
  };
}
