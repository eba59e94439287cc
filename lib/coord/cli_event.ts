/**
 * `git-paw __cli-event --cli NAME --event EVENT [JSON]`: run by a CLI's hook
 * inside an agent worktree (Claude Code's Notification / Stop / PreToolUse /
 * PostToolUse / UserPromptSubmit hooks, Gemini's hooks, Codex's `notify`).
 * It reads the event's JSON (stdin, or the one argument Codex's `notify`
 * appends), decides with `lib/core/cli_events.ts` and publishes the agent's
 * `agent.status` to the session broker.
 *
 * It must never get in the CLI's way: it prints nothing on stdout (for
 * Claude's PreToolUse, no output means "no decision"), every wait is short
 * (stdin ≤ 1 s, the broker ≤ 1 s) and a broker that does not answer is not an
 * error (exit 0). Identity comes from the worktree's marker, the environment
 * only cross-checks it: a mismatch is one line on stderr and exit 1 (never 2:
 * Claude reads 2 as "block this tool call"), with nothing published.
 *
 * The CLIs run the reporting hooks in the background (Claude `"async":
 * true`, Gemini's hook shell; `backgroundHooks` in lib/core/cli_profiles.ts),
 * so runs may overlap: each
 * takes the worktree's hook lock from reading the state to publishing, and
 * a run the CLI started before the latest one applied (by process start
 * time) changes nothing, so the broker hears the events in the CLI's order.
 *
 * The broker call goes through lib/broker/client.ts (1 s timeout, one
 * socket per call: no `fetch`, no `setTimeout`, each costs Deno ~15–30 ms
 * at its first use). Loads
 * no zod, no `node:path` and starts no git process: it runs on every tool
 * call. Needs `--allow-read`, `--allow-write` (the state file),
 * `--allow-env`, `--allow-net=127.0.0.1`.
 * @module
 */
import {
  CLI_EVENT_SOURCE,
  type CliEventState,
  cliStatusMessage,
  mapCliEvent,
  oneLineText,
  stepCliEvent,
  toolLabel,
} from "../core/cli_events.ts";
import { hookDecisionOutput, isDecisionEvent } from "../core/approval_hooks.ts";
import {
  findGitDir,
  lockCliState,
  processStartTicks,
  readAgentKeySync,
  readCliState,
  readMarkerIdentity,
  writeCliState,
} from "../adapters/cli_state.ts";
import {
  type BrokerClient,
  brokerClient,
  tokenFromEnv,
} from "../broker/client.ts";
import { slugify } from "../core/slug.ts";
import { eprintln, println } from "../output.ts";
import { type LooseObject, looseObject } from "../core/loose_json.ts";

const STDIN_TIMEOUT_MS = 1000;
const STDIN_MAX_BYTES = 1 << 20;
const BROKER_TIMEOUT_MS = 1000;

/** Options of {@link runCliEvent} (tests inject what the process has). */
export type CliEventOptions = {
  cli: string;
  event: string;
  /** The JSON argument (Codex `notify`); else stdin is read. */
  payloadArg?: string;
  /** Where the hook runs (default: the CLI's project dir, else cwd). */
  cwd?: string;
  env?: (name: string) => string | undefined;
  stdin?: StdinLike | null;
  /** Diagnostics (stderr). */
  warn?: (line: string) => void;
  now?: () => number;
  /**
   * `queue` (`--approvals queue`): at a decision event (Claude's
   * `PreToolUse`, Codex's `PermissionRequest`, Gemini's `BeforeTool`) ask
   * the broker's approval queue and print its decision for the CLI,
   * waiting for a person when the policy does not decide.
   */
  approvals?: string;
  /** Where the decision is printed (stdout). */
  print?: (line: string) => void;
  /** Sleep between retries while the broker is away (tests shorten it). */
  retryMs?: number;
  /**
   * When the CLI started this run, on an ordered clock (default: this
   * process's start, {@link processStartTicks}); null: unknown. A run older
   * than the latest one applied changes nothing.
   */
  firedAt?: number | null;
};

/** Something to read the hook's stdin from (`Deno.stdin`). */
export type StdinLike = { read(buf: Uint8Array): Promise<number | null> };

/** Read the hook's stdin: at most 1 MiB within 1 s; "" when none. */
async function readStdin(stdin: StdinLike | null): Promise<string> {
  if (!stdin) return "";
  const buf = new Uint8Array(STDIN_MAX_BYTES);
  let size = 0;
  // AbortSignal.timeout, not setTimeout: Deno's first setTimeout costs
  // ~15 ms of start-up, and this runs before every tool call.
  const signal = AbortSignal.timeout(STDIN_TIMEOUT_MS);
  let onAbort: (() => void) | undefined;
  const timeout = new Promise<"timeout">((r) => {
    onAbort = () => r("timeout");
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    while (size < buf.length) {
      const n = await Promise.race([stdin.read(buf.subarray(size)), timeout]);
      if (n === "timeout" || n === null) break;
      size += n;
    }
  } catch {
    /* a closed stdin reads as empty */
  } finally {
    signal.removeEventListener("abort", onAbort!);
  }
  return new TextDecoder().decode(buf.subarray(0, size));
}

/**
 * Handle one hook event; resolves to the exit code (0, or 1 for an identity
 * mismatch). Never throws.
 */
export async function runCliEvent(opts: CliEventOptions): Promise<number> {
  const env = opts.env ?? ((n: string) => Deno.env.get(n));
  const warn = opts.warn ?? eprintln;
  const now = opts.now ?? (() => Date.now());
  try {
    const raw = opts.payloadArg ??
      await readStdin(
        opts.stdin === undefined ? defaultStdin() : opts.stdin,
      );
    let payload: unknown = {};
    try {
      payload = raw.trim() === "" ? {} : JSON.parse(raw);
    } catch { /* not JSON: the event name alone decides */ }
    const cwd = opts.cwd ?? env("CLAUDE_PROJECT_DIR") ??
      env("GEMINI_PROJECT_DIR") ?? Deno.cwd();
    const gitDir = findGitDir(cwd);
    if (gitDir === null) return 0; // not in a repo: not ours
    const marker = readMarkerIdentity(gitDir);
    if (marker === null) return 0; // not an agent worktree
    const envId = env("GIT_PAW_AGENT_ID")?.trim();
    if (
      envId && envId !== marker.agentId && slugify(envId) !== marker.agentId
    ) {
      warn(
        `git-paw: GIT_PAW_AGENT_ID '${envId}' does not match this worktree's agent '${marker.agentId}': nothing published`,
      );
      return 1;
    }
    const firedAt = opts.firedAt === undefined
      ? processStartTicks()
      : opts.firedAt;
    // The agent's key (and the token when the pane env lacks it).
    const cred = marker.brokerUrl ? readAgentKeySync(gitDir) : null;
    const client = marker.brokerUrl
      ? brokerClient(marker.brokerUrl, {
        token: tokenFromEnv(env) ?? cred?.token,
        ...(cred ? { agentKey: cred.key } : {}),
        oneShot: true,
      })
      : null;
    // Background hooks may run at once: one at a time from reading the
    // state to publishing, so statuses reach the broker in the CLI's order.
    const release = await lockCliState(gitDir);
    let step;
    try {
      const prev = readCliState(gitDir, opts.cli);
      const mapped = mapCliEvent(opts.cli, opts.event, payload);
      step = stepCliEvent(prev, opts.event, mapped, now(), firedAt);
      if (step.changed) writeCliState(gitDir, step.state);
      if (client && step.publish) {
        const body = cliStatusMessage(marker.agentId, opts.cli, step.publish, {
          source: CLI_EVENT_SOURCE,
          event: opts.event,
        });
        try {
          await client.publish(body, { timeoutMs: BROKER_TIMEOUT_MS });
        } catch { /* broker down or slow: the CLI must not notice */ }
      }
    } finally {
      release();
    }
    if (!client) return 0;
    if (opts.approvals === "queue" && isDecisionEvent(opts.cli, opts.event)) {
      const out = await decide(client, {
        ...opts,
        agentId: marker.agentId,
        payload,
        cwd,
        now,
        onPending: (label) => {
          // The agent waits for a person: say so (and what to run).
          const s: CliEventState = {
            ...step.state,
            published: { status: "needs_input", message: label },
          };
          writeCliState(gitDir, s);
        },
      });
      if (out !== null) (opts.print ?? println)(out);
    }
    return 0;
  } catch (e) {
    // Never break the CLI: one line, exit 0.
    warn(`git-paw: cli event ignored: ${e instanceof Error ? e.message : e}`);
    return 0;
  }
}

type DecideContext = CliEventOptions & {
  agentId: string;
  payload: unknown;
  cwd: string;
  now: () => number;
  onPending: (label: string) => void;
};

type Json = LooseObject;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Ask the broker's approval queue about this tool call and wait for its
 * decision; the text the CLI's hook prints, or null for "no decision"
 * (pane mode, a read-only tool, a broker that does not answer at first).
 */
async function decide(
  client: BrokerClient,
  ctx: DecideContext,
): Promise<string | null> {
  const p = looseObject(ctx.payload);
  const tool = typeof p.tool_name === "string" ? p.tool_name : null;
  if (!tool) return null;
  const out = (d: "allow" | "deny", reason: string | null) =>
    hookDecisionOutput(ctx.cli, ctx.event, d, reason);
  let filed;
  try {
    filed = await client.request("POST", "/approvals", {
      agent_id: ctx.agentId,
      cli: ctx.cli,
      tool,
      input: p.tool_input ?? {},
      cwd: typeof p.cwd === "string" ? p.cwd : ctx.cwd,
      worktree: ctx.cwd,
    }, { timeoutMs: 10_000 });
  } catch {
    return null; // no broker: the CLI's own prompt
  }
  const f = looseObject(filed.json);
  if (!filed.ok) return null;
  if (f.decision === "allow" || f.decision === "deny") {
    return out(f.decision, typeof f.reason === "string" ? f.reason : null);
  }
  if (f.decision !== "pending" || typeof f.id !== "number") return null;
  const id = f.id;
  const timeoutS = typeof f.timeout_seconds === "number"
    ? f.timeout_seconds
    : 600;
  const label = oneLineText(
    `approval ${id}: ${toolLabel(tool, p.tool_input)} — git paw approve ${id}`,
  );
  ctx.onPending(label);
  try {
    await client.publish({
      type: "agent.status",
      agent_id: ctx.agentId,
      payload: {
        status: "needs_input",
        modified_files: [],
        message: label,
        cli: ctx.cli,
        detail: { source: CLI_EVENT_SOURCE, event: ctx.event, approval: id },
      },
    }, { timeoutMs: BROKER_TIMEOUT_MS });
  } catch { /* the queue has it anyway */ }
  // The broker's timer denies at timeout_seconds; this is the backstop.
  const deadline = ctx.now() + (timeoutS + 10) * 1000;
  while (ctx.now() < deadline) {
    const wait = Math.max(
      1,
      Math.min(50, Math.ceil((deadline - ctx.now()) / 1000)),
    );
    let reply;
    try {
      reply = await client.request(
        "GET",
        `/approvals/${id}?wait=${wait}`,
        undefined,
        {
          timeoutMs: wait * 1000 + 5000,
        },
      );
    } catch {
      await sleep(ctx.retryMs ?? 1000);
      continue;
    }
    if (reply.status === 404) {
      return out("deny", `approval ${id} is no longer known to the broker`);
    }
    const d = looseObject(looseObject(reply.json).decision);
    if (d.decision === "allow" || d.decision === "deny") {
      return out(d.decision, typeof d.reason === "string" ? d.reason : null);
    }
    if (!reply.ok) await sleep(ctx.retryMs ?? 1000);
  }
  return out("deny", `no decision within ${timeoutS} s`);
}

function defaultStdin(): StdinLike | null {
  try {
    return Deno.stdin.isTerminal() ? null : Deno.stdin;
  } catch {
    return null;
  }
}
