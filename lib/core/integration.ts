/**
 * The integration lane's decisions (issue "Review, integrate, merge"), pure:
 * which test command applies, which combinations of agent branches to test
 * and in what order (the union first, then each branch alone, then pairs,
 * then a smallest failing set), when a newer commit supersedes a running
 * check, what the agents are told, and the status file's schema. The broker
 * plugin (`lib/coord/integration_plugin.ts`) and `git paw merge` run git and
 * the tests.
 * @module
 */
import { z } from "zod";
import type { Config } from "./config.ts";
import { splitCommand } from "./command_line.ts";

/** The feedback sender and message prefix of the lane. */
export const INTEGRATION_FROM = "integration";

/**
 * The test command for merged trees as argv: `[integration] test_command`
 * (argv, or a string split with shell word rules), else
 * `[supervisor] test_command`; `null` when neither is set.
 *
 * @example
 * ```ts
 * import { integrationTestArgv } from "./integration.ts";
 * import { defaultConfig } from "./config.ts";
 * const c = defaultConfig();
 * c.supervisor.test_command = "deno task test";
 * integrationTestArgv(c); // ["deno", "task", "test"]
 * ```
 */
export function integrationTestArgv(config: Config): string[] | null {
  const own = config.integration.test_command;
  if (Array.isArray(own)) return [...own];
  if (typeof own === "string") return splitCommand(own);
  const sup = config.supervisor.test_command;
  return sup && sup.trim() !== "" ? splitCommand(sup) : null;
}

// ---------------------------------------------------------------------------
// Combination search
// ---------------------------------------------------------------------------

/** What the search concluded. */
export type SearchResult =
  /** The union passes: nobody hears anything. */
  | { kind: "green" }
  /**
   * The union fails, but only because of branches that fail on their own
   * (their own business, not an integration finding).
   */
  | { kind: "own"; failingAlone: string[] }
  /** Combinations that fail while each of their branches passes alone. */
  | { kind: "combination"; sets: string[][]; failingAlone: string[] };

/**
 * The combination search as a generator: it yields the set of agents to test
 * next (merged on top of the base) and is resumed with `true` when that set
 * passes. Order: the union; when it fails, each branch alone; the union of
 * those that pass alone; every pair of them; when no pair fails, a failing
 * set reduced one agent at a time until removing any agent makes it pass.
 *
 * @example
 * ```ts
 * import { combinationSearch } from "./integration.ts";
 * const fails = (s: string[]) => s.includes("a") && s.includes("b");
 * const g = combinationSearch(["a", "b", "c"]);
 * let step = g.next();
 * while (!step.done) step = g.next(!fails(step.value));
 * // step.value = { kind: "combination", sets: [["a", "b"]], failingAlone: [] }
 * ```
 */
export function* combinationSearch(
  agents: readonly string[],
): Generator<string[], SearchResult, boolean> {
  const all = [...agents];
  if (all.length === 0) return { kind: "green" };
  if (yield all) return { kind: "green" };
  if (all.length === 1) return { kind: "own", failingAlone: all };
  const failingAlone: string[] = [];
  const alone: string[] = [];
  for (const a of all) {
    if (yield [a]) alone.push(a);
    else failingAlone.push(a);
  }
  if (alone.length < 2) return { kind: "own", failingAlone };
  if (failingAlone.length > 0 && (yield alone)) {
    return { kind: "own", failingAlone };
  }
  const pairs: string[][] = [];
  for (let i = 0; i < alone.length; i++) {
    for (let j = i + 1; j < alone.length; j++) {
      const pair = [alone[i]!, alone[j]!];
      if (!(yield pair)) pairs.push(pair);
    }
  }
  if (pairs.length > 0) {
    return { kind: "combination", sets: pairs, failingAlone };
  }
  // No pair fails, the union of the passing ones does: shrink it.
  let set = alone;
  for (const a of alone) {
    if (set.length <= 3) break; // every pair passed: 3 is the floor
    const without = set.filter((x) => x !== a);
    if (!(yield without)) set = without;
  }
  return { kind: "combination", sets: [set], failingAlone };
}

// ---------------------------------------------------------------------------
// Supersede: one run at a time, a newer commit aborts the running check
// ---------------------------------------------------------------------------

/** The lane's scheduling state. */
export type LaneState = {
  /** A check is running. */
  running: boolean;
  /** A newer commit arrived while it ran: check again when it ends. */
  pending: boolean;
  /** Checks started so far (the running one's number). */
  generation: number;
  /** Checks aborted because a newer commit arrived. */
  superseded: number;
};

/** What happened. */
export type LaneEvent = { kind: "commit" } | { kind: "finished" };

/** What the shell does. */
export type LaneEffect =
  | { kind: "start"; generation: number }
  | { kind: "abort"; generation: number };

/** A fresh lane. */
export function initialLaneState(): LaneState {
  return { running: false, pending: false, generation: 0, superseded: 0 };
}

/**
 * Step the lane: a commit starts a check, or aborts the running one and
 * queues a new one (several commits during one run queue one check); a
 * finished (or aborted) run starts the queued check.
 */
export function reduceLane(
  s: LaneState,
  e: LaneEvent,
): { state: LaneState; effects: LaneEffect[] } {
  if (e.kind === "commit") {
    if (!s.running) {
      const g = s.generation + 1;
      return {
        state: { ...s, running: true, generation: g },
        effects: [{ kind: "start", generation: g }],
      };
    }
    if (s.pending) return { state: s, effects: [] };
    return {
      state: { ...s, pending: true, superseded: s.superseded + 1 },
      effects: [{ kind: "abort", generation: s.generation }],
    };
  }
  if (!s.pending) return { state: { ...s, running: false }, effects: [] };
  const g = s.generation + 1;
  return {
    state: { ...s, running: true, pending: false, generation: g },
    effects: [{ kind: "start", generation: g }],
  };
}

// ---------------------------------------------------------------------------
// What the agents hear
// ---------------------------------------------------------------------------

/** A live agent branch at a commit. */
export type AgentTip = { agent: string; branch: string; commit: string };

/** How many failing lines a message quotes. */
const QUOTED_LINES = 8;

const FAILURE_LINE =
  /error|fail|panic|exception|not found|undefined|cannot|expected|assert/i;

/**
 * The first failing lines of a test output: lines that look like failures
 * (at most {@link QUOTED_LINES}), else the last non-blank lines.
 */
export function failingLines(output: string, max = QUOTED_LINES): string[] {
  const lines = output.split(/\r?\n/).map((l) => l.trimEnd()).filter((l) =>
    l.trim() !== ""
  );
  const hits = lines.filter((l) => FAILURE_LINE.test(l));
  return (hits.length > 0 ? hits.slice(0, max) : lines.slice(-max)).map((l) =>
    l.length > 300 ? `${l.slice(0, 300)}…` : l
  );
}

function names(list: readonly string[]): string {
  if (list.length <= 1) return list.join("");
  return `${list.slice(0, -1).join(", ")} and ${list.at(-1)}`;
}

/** One feedback to publish. */
export type LaneFeedback = { to: string; text: string };

/** Feedback to both agents of a textual conflict. */
export function conflictFeedback(
  a: AgentTip,
  b: AgentTip,
  files: readonly string[],
): LaneFeedback[] {
  const list = files.slice(0, 20).join(", ") +
    (files.length > 20 ? `, … ${files.length - 20} more` : "");
  const one = (me: AgentTip, other: AgentTip): LaneFeedback => ({
    to: me.agent,
    text:
      `[integration] textual conflict: your branch ${me.branch} and agent ${other.agent}'s branch ${other.branch} do not merge: ${list}. Agree with ${other.agent} on who changes what, then one of you adapts.`,
  });
  return [one(a, b), one(b, a)];
}

/** Feedback to every agent of a failing combination. */
export function combinationFeedback(
  set: readonly AgentTip[],
  test: { command: readonly string[]; code: number; output: string },
): LaneFeedback[] {
  const quoted = failingLines(test.output).map((l) => `  ${l}`).join("\n");
  const cmd = test.command.join(" ");
  return set.map((me) => {
    const others = set.filter((x) => x !== me).map((x) =>
      `${x.agent} (${x.branch})`
    );
    return {
      to: me.agent,
      text:
        `[integration] combined test failure: your branch ${me.branch} passes \`${cmd}\` alone, and so does each of ${
          names(others)
        }, but merged together it fails (exit ${test.code}). Talk to ${
          names(set.filter((x) => x !== me).map((x) => x.agent))
        }; first failing lines:\n${quoted}`,
    };
  });
}

/**
 * A key for a finding, so the same finding on the same commits is told
 * once: kind and the sorted `agent@commit` list.
 */
export function findingKey(kind: string, set: readonly AgentTip[]): string {
  return `${kind}:${set.map((t) => `${t.agent}@${t.commit}`).sort().join(",")}`;
}

// ---------------------------------------------------------------------------
// Status (written by the plugin, read by `git paw integrate --status`)
// ---------------------------------------------------------------------------

/** One thing the last check found. */
export const IntegrationFinding = z.object({
  kind: z.enum(["conflict", "test", "alone"]),
  agents: z.array(z.string()),
  files: z.array(z.string()).default(() => []),
  lines: z.array(z.string()).default(() => []),
});
/** One thing the last check found. */
export type IntegrationFinding = z.infer<typeof IntegrationFinding>;

/** The lane's status file. */
export const IntegrationStatus = z.object({
  state: z.enum(["idle", "running", "green", "conflict", "failing", "error"]),
  /** RFC 3339 time of the last change. */
  updated_at: z.string(),
  base: z.string().nullable(),
  agents: z.array(z.object({
    agent: z.string(),
    branch: z.string(),
    commit: z.string(),
  })),
  union_tree: z.string().nullable(),
  test_command: z.array(z.string()).nullable(),
  findings: z.array(IntegrationFinding),
  /** Test runs started (cache hits not counted). */
  test_runs: z.number().int().min(0),
  cache_hits: z.number().int().min(0),
  superseded: z.number().int().min(0),
  detail: z.string().nullable().default(null),
});
/** The lane's status file. */
export type IntegrationStatus = z.infer<typeof IntegrationStatus>;

/** One line for the dashboard and `integrate --status`. */
export function integrationLine(s: IntegrationStatus): string {
  const n = s.agents.length;
  switch (s.state) {
    case "idle":
      return `integration: idle (${n} branches)`;
    case "running":
      return `integration: checking ${n} branches…`;
    case "green":
      return `integration: ✓ ${n} branches merge${
        s.test_command ? " and pass" : " cleanly"
      }`;
    case "conflict":
    case "failing": {
      const parts = s.findings.map((f) =>
        `${f.agents.join("+")} ${f.kind === "conflict" ? "conflict" : "fail"}${
          f.kind === "alone" ? " alone" : ""
        }`
      );
      return `integration: ✗ ${parts.join("; ") || s.state}`;
    }
    case "error":
      return `integration: error: ${s.detail ?? "unknown"}`;
  }
}
