/**
 * The supervisor's gates (docs/REFERENCE.md, "Supervisor mode"): the
 * `[supervisor]` commands git-paw runs itself on each committed artifact of
 * an agent, in a scratch worktree at that commit, and what it publishes:
 * `agent.verified` when every gate passes, `agent.feedback` with the
 * failing output's tail when one fails. Pure: the gate list, the texts and
 * the scheduler (one run at a time per agent, the newest commit wins) as a
 * reducer whose effects `lib/coord/gate_plugin.ts` carries out.
 * @module
 */
import type { Config } from "./config.ts";
import { splitCommand } from "./command_line.ts";

/** `from` of the gates' feedback and `verified_by` of their verdicts. */
export const GATE_FROM = "git-paw-gate";

/**
 * The `[supervisor]` keys that are gates, in the order they run (the first
 * failure stops the run). `doc_tool_command` is a tool, not a gate.
 */
export const GATE_KEYS = [
  "test_command",
  "lint_command",
  "build_command",
  "fmt_check_command",
  "spec_validate_command",
  "doc_build_command",
  "security_audit_command",
] as const;

/** One gate: its `[supervisor]` key and argv. */
export type Gate = { key: (typeof GATE_KEYS)[number]; argv: string[] };

/**
 * The configured gates (commands split with shell word rules, as the
 * integration lane's); a command that cannot be split is reported, not run.
 *
 * @example
 * ```ts
 * import { gatesOf } from "./gates.ts";
 * import { defaultConfig } from "./config.ts";
 * const c = defaultConfig();
 * c.supervisor.test_command = "deno task test";
 * gatesOf(c).gates; // [{ key: "test_command", argv: ["deno", "task", "test"] }]
 * ```
 */
export function gatesOf(
  config: Config,
): { gates: Gate[]; errors: string[] } {
  const gates: Gate[] = [];
  const errors: string[] = [];
  for (const key of GATE_KEYS) {
    const text = config.supervisor[key];
    if (text === null || text.trim() === "") continue;
    try {
      const argv = splitCommand(text);
      if (argv.length > 0) gates.push({ key, argv });
    } catch (e) {
      errors.push(`[supervisor] ${key}: ${(e as Error).message}`);
    }
  }
  return { gates, errors };
}

/** Lines of output quoted in a failure's feedback. */
export const TAIL_LINES = 40;
/** Characters of output quoted at most. */
const TAIL_CHARS = 4000;

/** The last {@link TAIL_LINES} non-blank lines, at most {@link TAIL_CHARS}. */
export function outputTail(output: string): string {
  const lines = output.split(/\r?\n/).map((l) => l.trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  let tail = lines.slice(-TAIL_LINES).join("\n");
  if (tail.length > TAIL_CHARS) tail = `…${tail.slice(-TAIL_CHARS)}`;
  return tail;
}

/** What one gate run gave. */
export type GateRun = {
  gate: Gate;
  code: number;
  output: string;
  timedOut: boolean;
};

/** The feedback text of a failed gate, with its output's tail. */
export function gateFailureText(run: GateRun, commit: string): string {
  const why = run.timedOut ? "timed out" : `failed (exit ${run.code})`;
  const tail = outputTail(run.output);
  return `[${GATE_FROM}] ${run.gate.key} \`${
    run.gate.argv.join(" ")
  }\` ${why} on commit ${commit.slice(0, 12)}` +
    (tail ? `:\n${tail}` : " (no output)");
}

/** The `agent.verified` message text when every gate passed. */
export function gatePassText(gates: readonly Gate[], commit: string): string {
  return `[${GATE_FROM}] ${
    gates.map((g) => g.key).join(", ")
  } passed on commit ${commit.slice(0, 12)}`;
}

// ---------------------------------------------------------------------------
// The scheduler
// ---------------------------------------------------------------------------

/** Per agent: the commit being checked and the newest one waiting. */
export type GateQueue = {
  running: Map<string, string>;
  pending: Map<string, string>;
  /** `agent commit` pairs already run or queued (a commit is gated once). */
  seen: Set<string>;
  /** Runs at once over all agents. */
  maxParallel: number;
};

/** What the plugin does next. */
export type GateEffect =
  | { kind: "start"; agent: string; commit: string }
  | { kind: "abort"; agent: string };

/** What happens to the queue. */
export type GateEvent =
  | { kind: "commit"; agent: string; commit: string }
  | { kind: "finished"; agent: string };

/** An empty queue. */
export function gateQueue(maxParallel = 2): GateQueue {
  return {
    running: new Map(),
    pending: new Map(),
    seen: new Set(),
    maxParallel: Math.max(1, maxParallel),
  };
}

/**
 * Step the queue: a new commit of an agent replaces what waits for it and
 * aborts its running check (the newest commit wins); a check that ended
 * frees its slot. Then free slots start waiting agents, oldest first.
 */
export function stepGates(q: GateQueue, e: GateEvent): GateEffect[] {
  const fx: GateEffect[] = [];
  if (e.kind === "commit") {
    const key = `${e.agent} ${e.commit}`;
    if (q.seen.has(key)) return fx;
    q.seen.add(key);
    q.pending.delete(e.agent); // re-inserted last: oldest first stays fair
    q.pending.set(e.agent, e.commit);
    if (q.running.has(e.agent)) fx.push({ kind: "abort", agent: e.agent });
  } else {
    q.running.delete(e.agent);
  }
  for (const [agent, commit] of [...q.pending]) {
    if (q.running.size >= q.maxParallel) break;
    if (q.running.has(agent)) continue;
    q.pending.delete(agent);
    q.running.set(agent, commit);
    fx.push({ kind: "start", agent, commit });
  }
  return fx;
}
