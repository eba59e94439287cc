/**
 * The built-in `demo` agent CLI (`git-paw __demo-agent [prompt]`): a tiny,
 * deterministic stand-in for an AI coding CLI, so a whole session can be seen
 * (and tested) on a machine with no AI CLI and no paid service.
 *
 * It reads `GIT_PAW_AGENT_ID` and `GIT_PAW_BROKER_URL` (absent = broker off),
 * its worktree's `AGENTS.md` and an optional first prompt (the boot block);
 * publishes `agent.status` working, an `agent.intent` for `DEMO-<id>.md`,
 * edits and commits that file, publishes `agent.artifact` committed (unless a
 * git-paw post-commit hook already does), then idles: it long-polls its inbox
 * (`/messages/<id>?since=<cursor>&wait=30`), prints and acknowledges each
 * message, and treats each stdin line as a task (append + commit). `exit`,
 * end of input or Ctrl-C ends it.
 *
 * A script (`$GIT_PAW_DEMO_SCRIPT`, {@link DEMO_SCRIPT_ENV}) makes it act
 * like a real agent for end-to-end tests, step by step after its first
 * task: `stall` (wait silently for a task or a message), `ask:<question>`
 * (publish `agent.question`, wait for an answer), `run:<command>` (ask the
 * session's approval queue as a CLI's hook does, wait for the decision; an
 * allowed command is recorded in its file and committed — never executed),
 * `done` (publish `agent.status` done). The value is a JSON array of steps
 * for every demo agent, or an object of arrays by agent id (`"*"`: the
 * others).
 *
 * Needs `--allow-run=git`, `--allow-net=127.0.0.1`, `--allow-read`,
 * `--allow-write`, `--allow-env`.
 * @module
 */
import { join } from "node:path";
import { slugify } from "../core/slug.ts";
import { gitTry } from "../adapters/git_run.ts";
import { brokerClient, tokenFromEnv } from "../broker/client.ts";
import { readAgentKey } from "../coord/credentials.ts";
import { sleep } from "../sleep.ts";

/** The environment variable holding a demo script (see the module doc). */
const DEMO_SCRIPT_ENV = "GIT_PAW_DEMO_SCRIPT";

/**
 * The steps of `agentId` in a script's JSON text; an empty list when there
 * is none, null when the text is not a script.
 */
function demoScriptSteps(
  text: string | undefined,
  agentId: string,
): string[] | null {
  if (text === undefined || text.trim() === "") return [];
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return null;
  }
  const list = (x: unknown) =>
    Array.isArray(x) && x.every((s) => typeof s === "string")
      ? x as string[]
      : null;
  if (Array.isArray(v)) return list(v);
  if (v === null || typeof v !== "object") return null;
  const o = v as Record<string, unknown>;
  const mine = Object.hasOwn(o, agentId) ? o[agentId] : o["*"];
  return mine === undefined ? [] : list(mine);
}

/** Options for {@link runDemoAgent} (defaults come from the environment). */
export type DemoAgentOptions = {
  /** First prompt (e.g. the boot block). */
  prompt?: string;
  /** Worktree to work in (default cwd). */
  cwd?: string;
  /** Agent id (default `$GIT_PAW_AGENT_ID`, else slug of the branch). */
  agentId?: string;
  /** Broker base URL (default `$GIT_PAW_BROKER_URL`; empty = broker off). */
  brokerUrl?: string;
  /** Bearer token (default `$GIT_PAW_BROKER_TOKEN`, else the key file's). */
  token?: string;
  /** Agent key (default: the worktree's `<git-dir>/paw-agent-key`). */
  agentKey?: string;
  /** Long-poll wait in seconds (default 30). */
  waitSeconds?: number;
  /** Line sink (default stdout). */
  print?: (line: string) => void;
  /** Task lines (default stdin, one task per line). */
  input?: ReadableStream<Uint8Array>;
  /** Stops the agent (default: Ctrl-C / SIGTERM). */
  signal?: AbortSignal;
  /** Script JSON (default `$GIT_PAW_DEMO_SCRIPT`). */
  script?: string;
};

const enc = new TextEncoder();

function stdoutPrint(line: string): void {
  Deno.stdout.writeSync(enc.encode(line + "\n"));
}

async function* lines(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<string> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  const onAbort = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  let buf = "";
  try {
    while (!signal.aborted) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += value;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        yield buf.slice(0, nl).replace(/\r$/, "");
        buf = buf.slice(nl + 1);
      }
    }
    if (buf !== "" && !signal.aborted) yield buf;
  } finally {
    signal.removeEventListener("abort", onAbort);
    reader.releaseLock();
  }
}

/** How long the demo waits at boot for its broker's first answer. */
const BROKER_BOOT_WAIT_MS = 10_000;

/** Run the demo agent until `exit`, end of input or the signal; resolves to an exit code. */
export async function runDemoAgent(
  opts: DemoAgentOptions = {},
): Promise<number> {
  const print = opts.print ?? stdoutPrint;
  const cwd = opts.cwd ?? Deno.cwd();
  const say = (s: string) => print(`[demo] ${s}`);

  if ((await gitTry(cwd, ["rev-parse", "--is-inside-work-tree"])).code !== 0) {
    say(`not inside a git worktree: ${cwd}`);
    return 1;
  }
  const branch =
    (await gitTry(cwd, ["symbolic-ref", "--quiet", "--short", "HEAD"]))
      .stdout.trim() || null;
  const agentId = opts.agentId ?? Deno.env.get("GIT_PAW_AGENT_ID") ??
    slugify(branch ?? "demo");
  const brokerUrl = (opts.brokerUrl ?? Deno.env.get("GIT_PAW_BROKER_URL") ?? "")
    .replace(/\/+$/, "");
  const file = `DEMO-${slugify(agentId)}.md`;
  // Its own key (and the token) from the worktree's key file, like the
  // helper: a session broker takes its messages only with it.
  const gd = (await gitTry(cwd, ["rev-parse", "--absolute-git-dir"])).stdout
    .trim();
  const cred = gd ? await readAgentKey(gd) : null;
  const agentKey = opts.agentKey ?? cred?.key;
  const client = brokerUrl
    ? brokerClient(brokerUrl, {
      token: opts.token ?? tokenFromEnv() ?? cred?.token,
      ...(agentKey ? { agentKey } : {}),
    })
    : null;

  const stop = new AbortController();
  const onSig = () => stop.abort();
  const sigs: Deno.Signal[] = [];
  if (!opts.signal) {
    for (const s of ["SIGINT", "SIGTERM"] as Deno.Signal[]) {
      try {
        Deno.addSignalListener(s, onSig);
        sigs.push(s);
      } catch { /* not supported on this platform */ }
    }
  } else if (opts.signal.aborted) stop.abort();
  else opts.signal.addEventListener("abort", onSig, { once: true });

  say(`agent '${agentId}' on branch ${branch ?? "(detached)"} in ${cwd}`);
  say(
    brokerUrl
      ? `broker: ${brokerUrl}`
      : "broker: off (GIT_PAW_BROKER_URL is not set)",
  );

  try {
    const agents = await Deno.readTextFile(join(cwd, "AGENTS.md"));
    const branchLine = agents.split("\n").find((l) =>
      l.includes("**Branch:**")
    );
    say(
      `read AGENTS.md (${agents.split("\n").length} lines)${
        branchLine
          ? `: ${branchLine.replace(/[*`]/g, "").replace(/^[-\s]+/, "").trim()}`
          : ""
      }`,
    );
  } catch {
    say("no AGENTS.md in this worktree");
  }
  if (opts.prompt && opts.prompt.trim()) {
    const first = opts.prompt.trim().split("\n")[0]!;
    say(
      `first prompt (${opts.prompt.trim().split("\n").length} lines): ${first}`,
    );
  }

  // A session opens the agent panes while pane 0 is still binding its
  // port: wait (bounded) for the broker's first answer, so the boot status
  // is not sent into a closed port.
  await client?.status({
    timeoutMs: BROKER_BOOT_WAIT_MS,
    refusedRetryMs: BROKER_BOOT_WAIT_MS,
    signal: stop.signal,
  }).catch(() => {});

  let brokerWarned = false;
  const publish = async (msg: Record<string, unknown>): Promise<boolean> => {
    if (!client) return false;
    try {
      const reply = await client.publish(msg, { signal: stop.signal });
      if (!reply.ok) {
        say(
          `broker refused ${msg.type}: ${reply.status} ${
            reply.text.slice(0, 200)
          }`,
        );
        return false;
      }
      brokerWarned = false;
      return true;
    } catch (e) {
      if (!stop.signal.aborted && !brokerWarned) {
        say(`broker unreachable (${(e as Error).message}); carrying on`);
        brokerWarned = true;
      }
      return false;
    }
  };
  const status = (status: string, message: string, files: string[] = []) =>
    publish({
      type: "agent.status",
      agent_id: agentId,
      payload: { status, modified_files: files, message, cli: "demo" },
    });

  // A git-paw post-commit hook publishes the artifact itself.
  const hookPublishes = await hasManagedPostCommitHook(cwd);

  // Tasks from stdin and from the inbox run one at a time (one git index).
  let queue: Promise<void> = Promise.resolve();
  const doTask = (task: string): Promise<void> => {
    const next = queue.then(() => runTask(task));
    queue = next.catch(() => {});
    return next;
  };

  // Directed messages get an answer; peers' broadcasts are only noted.
  const answer = async (
    m: Record<string, unknown>,
    from: string,
  ): Promise<void> => {
    const p = (m.payload ?? {}) as Record<string, unknown>;
    if (m.type === "agent.feedback") {
      await status("working", `ack agent.feedback from ${from}`);
      const errs = Array.isArray(p.errors) ? p.errors.join("; ") : "";
      await doTask(`address feedback from ${from}: ${errs}`);
      idleLine();
    } else if (m.type === "agent.blocked") {
      await status("working", `ack agent.blocked from ${from}`);
      await doTask(
        `provide ${String(p.needs ?? "what was asked")} for ${from}`,
      );
    } else {
      say(`noted ${m.type} from ${from}`);
    }
  };

  // A script step waiting for a word (a task typed or a message) is woken.
  let wake: (() => void) | null = null;
  const nextWord = () => new Promise<void>((r) => wake = r);
  const woke = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let scriptBusy = false;
  const idleLine = () => {
    if (!scriptBusy) say("idle: type a task and press Enter ('exit' to quit)");
  };

  const runTask = async (task: string): Promise<void> => {
    try {
      await runTaskOnce(task);
    } finally {
      woke();
    }
  };
  const runTaskOnce = async (task: string): Promise<void> => {
    await status("working", `working on: ${task}`, [file]);
    say(`working on: ${task}`);
    await publish({
      type: "agent.intent",
      agent_id: agentId,
      payload: { files: [file], summary: task, valid_for_seconds: 300 },
    });
    const path = join(cwd, file);
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch {
      text = `# Demo work by ${agentId}\n\n`;
    }
    await Deno.writeTextFile(path, `${text}- ${task}\n`);
    say(`edited ${file}`);
    const sha = await commit(cwd, file, `demo(${agentId}): ${task}`);
    if (!sha) {
      say(`could not commit ${file}; left it uncommitted`);
      return;
    }
    say(`committed ${sha.slice(0, 8)} "${task}"`);
    if (!hookPublishes) {
      await publish({
        type: "agent.artifact",
        agent_id: agentId,
        payload: { status: "committed", exports: [], modified_files: [file] },
      });
    }
  };

  // As the supervisor (the repo root of a supervisor session) the demo
  // agent edits nothing: it says it is online and reports its inbox.
  const supervising = agentId === "supervisor";
  const steps = demoScriptSteps(
    opts.script ?? Deno.env.get(DEMO_SCRIPT_ENV),
    agentId,
  );
  if (steps === null) say(`ignoring ${DEMO_SCRIPT_ENV}: not a JSON script`);

  /** Ask the approval queue about `command`, as a CLI's hook does. */
  const askApproval = async (command: string): Promise<boolean> => {
    if (!client) return true;
    let f: Record<string, unknown> = {};
    try {
      const r = await client.request("POST", "/approvals", {
        agent_id: agentId,
        cli: "demo",
        tool: "Bash",
        input: { command },
        cwd,
        worktree: cwd,
      }, { timeoutMs: 10_000, signal: stop.signal });
      f = (r.json ?? {}) as Record<string, unknown>;
    } catch {
      say("approval queue unreachable; not running it");
      return false;
    }
    const said = (d: unknown, reason: unknown): boolean => {
      say(
        `${d === "allow" ? "allowed" : "denied"}: ${command}${
          typeof reason === "string" && reason ? ` — ${reason}` : ""
        }`,
      );
      return d === "allow";
    };
    if (f.decision === "allow" || f.decision === "deny") {
      return said(f.decision, f.reason);
    }
    if (f.decision !== "pending" || typeof f.id !== "number") return true;
    const id = f.id;
    const label = `approval ${id}: Bash: ${command} — git paw approve ${id}`;
    say(`waiting: ${label}`);
    await publish({
      type: "agent.status",
      agent_id: agentId,
      payload: {
        status: "needs_input",
        modified_files: [],
        message: label,
        cli: "demo",
        detail: { source: "cli_event", event: "demo", approval: id },
      },
    });
    while (!stop.signal.aborted) {
      try {
        const r = await client.request(
          "GET",
          `/approvals/${id}?wait=30`,
          undefined,
          { timeoutMs: 35_000, signal: stop.signal },
        );
        if (r.status === 404) return said("deny", "unknown to the broker");
        const d = ((r.json ?? {}) as { decision?: Record<string, unknown> })
          .decision;
        if (d && (d.decision === "allow" || d.decision === "deny")) {
          return said(d.decision, d.reason);
        }
      } catch {
        await sleep(1000, stop.signal);
      }
    }
    return false;
  };

  const runScript = async (list: string[]): Promise<void> => {
    for (const step of list) {
      if (stop.signal.aborted) return;
      if (step === "stall") {
        // Silent until a task or a message comes: looks idle on screen.
        await status("working", "thinking");
        scriptBusy = false;
        const word = nextWord();
        say("idle: type a task and press Enter ('exit' to quit)");
        await word;
        await queue;
        scriptBusy = true;
      } else if (step.startsWith("ask:")) {
        const question = step.slice(4).trim() || "what next?";
        const word = nextWord();
        await publish({
          type: "agent.question",
          agent_id: agentId,
          payload: { question },
        });
        say(`asked: ${question} (waiting for an answer)`);
        await word;
        await queue;
      } else if (step.startsWith("run:")) {
        const command = step.slice(4).trim();
        await status("working", `wants to run: ${command}`);
        if (await askApproval(command)) {
          await doTask(`ran: ${command}`);
        } else {
          await status("working", `not run: ${command}`);
        }
      } else if (step === "done") {
        await status("done", "demo script finished");
        say("done: the script is finished");
      } else {
        say(`unknown script step '${step}'; skipped`);
      }
    }
  };

  let scripted: Promise<void> = Promise.resolve();
  if (supervising) {
    await publish({
      type: "agent.status",
      agent_id: agentId,
      payload: {
        status: "working",
        modified_files: [],
        message: "supervisor online",
        phase: "baseline",
        cli: "demo",
      },
    });
    say("supervising: printing the inbox ('exit' to quit)");
  } else {
    await status("working", "booting");
    await doTask("initial demo edit");
    scriptBusy = (steps?.length ?? 0) > 0;
    scripted = scriptBusy
      ? runScript(steps!).catch((e) => say(`script failed: ${e}`)).finally(
        () => {
          scriptBusy = false;
          idleLine();
        },
      )
      : Promise.resolve();
    if (!scriptBusy) idleLine();
  }

  const inbox = client ? pollInbox() : Promise.resolve();
  async function pollInbox(): Promise<void> {
    let cursor = 0;
    const wait = opts.waitSeconds ?? 30;
    let backoff = 200;
    while (!stop.signal.aborted) {
      try {
        const body = await client!.poll(agentId, { since: cursor, wait }, {
          signal: stop.signal,
        });
        backoff = 200;
        for (const m of body.messages ?? []) {
          if (typeof m.seq === "number") cursor = Math.max(cursor, m.seq);
          const from = senderOf(m);
          say(`<- ${m.type} from ${from}: ${summarise(m)}`);
          if (!supervising) await answer(m, from);
        }
        if (typeof body.last_seq === "number") {
          cursor = Math.max(cursor, body.last_seq);
        }
      } catch (e) {
        if (stop.signal.aborted) return;
        if (!brokerWarned) {
          say(`inbox poll failed (${(e as Error).message}); retrying`);
          brokerWarned = true;
        }
        await sleep(backoff, stop.signal);
        backoff = Math.min(backoff * 2, 5000);
      }
    }
  }

  try {
    for await (
      const raw of lines(opts.input ?? Deno.stdin.readable, stop.signal)
    ) {
      const task = raw.trim();
      if (task === "") continue;
      if (task === "exit" || task === "quit") break;
      if (supervising) say(`directive: ${task}`);
      else {
        await doTask(task);
        idleLine();
      }
    }
  } finally {
    stop.abort();
    woke();
    await inbox;
    await scripted;
    for (const s of sigs) Deno.removeSignalListener(s, onSig);
    opts.signal?.removeEventListener("abort", onSig);
  }
  say("bye");
  return 0;
}

function senderOf(m: Record<string, unknown>): string {
  const p = (m.payload ?? {}) as Record<string, unknown>;
  if (typeof p.from === "string") return p.from;
  if (typeof m.from === "string") return m.from;
  if (typeof m.agent_id === "string") return m.agent_id;
  return "?";
}

function summarise(m: Record<string, unknown>): string {
  const p = (m.payload ?? {}) as Record<string, unknown>;
  if (typeof m.branch_id === "string") return `branch ${m.branch_id}`;
  for (const k of ["summary", "question", "needs", "message", "status"]) {
    if (typeof p[k] === "string" && p[k]) return String(p[k]);
  }
  if (Array.isArray(p.errors)) return p.errors.join("; ");
  return JSON.stringify(p).slice(0, 120);
}

async function hasManagedPostCommitHook(cwd: string): Promise<boolean> {
  const r = await gitTry(cwd, [
    "rev-parse",
    "--path-format=absolute",
    "--git-path",
    "hooks/post-commit",
  ]);
  if (r.code !== 0) return false;
  try {
    const text = await Deno.readTextFile(r.stdout.trim());
    return text.includes("git-paw managed hook");
  } catch {
    return false;
  }
}

/** Commit `file` in `cwd`; returns the new HEAD or null. Hooks run as usual. */
async function commit(
  cwd: string,
  file: string,
  msg: string,
): Promise<string | null> {
  const ident = (await gitTry(cwd, ["config", "user.email"])).stdout.trim()
    ? []
    : ["-c", "user.name=git-paw demo", "-c", "user.email=demo@git-paw.invalid"];
  // Another git process in this worktree may hold its index lock a moment
  // (a user's `git status`): try again, as a person would.
  const retried = async (args: string[]) => {
    for (let i = 0;; i++) {
      const r = await gitTry(cwd, args);
      if (r.code === 0 || i >= 4 || !/index\.lock/.test(r.stderr)) return r;
      await sleep(200);
    }
  };
  if ((await retried(["add", "--", file])).code !== 0) return null;
  const r = await retried([
    ...ident,
    "commit",
    "-q",
    "-m",
    msg,
    "--",
    file,
  ]);
  if (r.code !== 0) return null;
  return (await gitTry(cwd, ["rev-parse", "HEAD"])).stdout.trim() || null;
}
