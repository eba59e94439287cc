/**
 * Registers the coordination commands: the agent helper (`publish …`,
 * `inbox`, `done`) and the hidden `__hook <name>` the git hooks run.
 * @module
 */
import type { Command } from "commander";
import { UsageError } from "../core/errors.ts";
import { trace } from "../trace.ts";
import { eprintln, printJson, println } from "../output.ts";
import type { Identity, IdentityFlags, PublishReport } from "./helper.ts";
import type { StatusOptions } from "./plain_status.ts";

// The helper (and the message schemas it brings) loads only when one of
// these commands runs, not for every git-paw command.
let h: typeof import("./helper.ts");
async function loadHelper(): Promise<void> {
  trace("helper: parsed");
  h ??= await import("./helper.ts");
  trace("helper: loaded");
}

type Common = IdentityFlags & { json?: boolean };

function withIdentity(cmd: Command): Command {
  return cmd
    .hook("preAction", loadHelper)
    .option(
      "--agent <id>",
      "agent id (default: this worktree's agent, else $GIT_PAW_AGENT_ID)",
    )
    .option(
      "--broker <url>",
      "broker URL (default: this worktree's session, else $GIT_PAW_BROKER_URL)",
    )
    .option("--token <token>", "bearer token (default: $GIT_PAW_BROKER_TOKEN)")
    .option("--json", "print the result as JSON");
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

function intArg(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) {
      throw new UsageError(`${name} must be a whole number, got '${value}'`);
    }
    const n = Number(value);
    if (n < min || n > max) {
      throw new UsageError(
        `${name} must be between ${min} and ${max}, got ${n}`,
      );
    }
    return n;
  };
}

function identity(opts: Common): Promise<Identity> {
  return h.resolveIdentityAt(Deno.cwd(), opts);
}

async function send(opts: Common, build: (id: Identity) => unknown) {
  const id = await identity(opts);
  trace("helper: identity");
  const r = await h.publishMessage(id, build(id));
  trace("helper: published");
  reportSent(id, r, opts);
}

/** What `publish …` prints once its message is sent (or queued). */
function reportSent(id: Identity, r: PublishReport, opts: Common): void {
  for (const n of r.notes) eprintln(n);
  if (r.queued !== undefined) {
    // Exit 0: the message is safe and goes out on the next call (or when
    // the session broker starts again).
    eprintln(
      `note: broker at ${id.brokerUrl} did not take it now; ${r.message.type} kept in the outbox — ${r.queued}`,
    );
    if (opts.json) printJson({ ok: true, queued: true, message: r.message });
    return;
  }
  if (opts.json) printJson({ ok: true, seq: r.seq, message: r.message });
  else {
    println(
      `published ${r.message.type} as ${id.agentId}${
        r.seq ? ` (seq ${r.seq})` : ""
      }`,
    );
  }
}

/** `publish status <status>`. */
function publishStatus(status: string, o: StatusOptions): Promise<void> {
  return send(o, (id) => h.statusInput(id.agentId, status, o));
}

/** The value options of `publish status`, by flag (`files` repeats). */
const STATUS_FLAGS: Record<string, keyof StatusOptions> = {
  "--message": "message",
  "--files": "files",
  "--phase": "phase",
  "--cli": "cli",
  "--agent": "agent",
  "--broker": "broker",
  "--token": "token",
};

/**
 * `publish status …` as commander would parse it, for the plain argv an
 * agent's boot block and AGENTS.md spell (one status word, `--flag value`
 * or `--flag=value` pairs of its options, `--json`), or null for anything
 * else (help, a repeated option, a value that looks like a flag, an
 * unknown word), which commander then parses and reports.
 */
export function plainPublishStatus(
  args: readonly string[],
): { status: string; options: StatusOptions } | null {
  let status: string | null = null;
  const o: StatusOptions = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-")) {
      if (status !== null) return null;
      status = a;
      continue;
    }
    if (a === "--json") {
      if (o.json) return null;
      o.json = true;
      continue;
    }
    const eq = a.indexOf("=");
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const key = STATUS_FLAGS[flag];
    if (!key) return null;
    let value: string;
    if (eq > 0) value = a.slice(eq + 1);
    else {
      const next = args[++i];
      if (next === undefined || next.startsWith("-")) return null;
      value = next;
    }
    if (key === "files") o.files = [...o.files ?? [], value];
    else if (o[key] !== undefined) return null;
    else (o as Record<string, unknown>)[key] = value;
  }
  return status === null ? null : { status, options: o };
}

/**
 * Run `publish status …` without commander when {@link plainPublishStatus}
 * parses it (what an agent runs on every report); false when commander
 * must.
 */
export async function runPlainPublishStatus(
  args: readonly string[],
): Promise<boolean> {
  const p = plainPublishStatus(args);
  if (!p) return false;
  trace("helper: parsed");
  // At an agent worktree's top: no zod, no git, no fetch
  // (lib/coord/plain_status.ts); else the full path.
  const { plainPublishStatusMessage } = await import("./plain_status.ts");
  const sent = await plainPublishStatusMessage(p.status, p.options, {
    cwd: Deno.cwd(),
    env: (n) => Deno.env.get(n),
  });
  if (sent) {
    trace("helper: published plainly");
    reportSent(sent.id, sent.report, p.options);
    return true;
  }
  await loadHelper();
  await publishStatus(p.status, p.options);
  return true;
}

/** Add this area's subcommands to `program`. */
export function registerCoordCommands(program: Command): void {
  const publish = program.command("publish")
    .description(
      "Publish a message to the session broker as this agent (run inside an agent pane)",
    );

  withIdentity(
    publish.command("status <status>")
      .description("Report what you are doing, e.g. `publish status working`")
      .option("--message <text>", "one line about the current step")
      .option("--files <list>", "modified files, comma separated", collect)
      .option("--phase <phase>", "phase label")
      .option("--cli <name>", "CLI name"),
  ).action(publishStatus);

  withIdentity(
    publish.command("artifact <status>")
      .description(
        "Announce produced work, e.g. `publish artifact done --exports parse`",
      )
      .option("--exports <list>", "exported names, comma separated", collect)
      .option("--files <list>", "modified files, comma separated", collect),
  ).action((
    status: string,
    o: Common & { exports?: string[]; files?: string[] },
  ) =>
    send(o, (id) => ({
      type: "agent.artifact",
      agent_id: id.agentId,
      payload: {
        status,
        exports: h.listArg(o.exports),
        modified_files: h.listArg(o.files),
      },
    }))
  );

  withIdentity(
    publish.command("blocked")
      .description("Say you are waiting for another agent's work")
      .requiredOption("--needs <what>", "what you need")
      .requiredOption("--from <agent>", "the agent that has it"),
  ).action((o: Common & { needs: string; from: string }) =>
    send(o, (id) => ({
      type: "agent.blocked",
      agent_id: id.agentId,
      payload: { needs: o.needs, from: o.from },
    }))
  );

  withIdentity(
    publish.command("question <text...>")
      .description("Ask the supervisor / human a question"),
  ).action((words: string[], o: Common) =>
    send(o, (id) => ({
      type: "agent.question",
      agent_id: id.agentId,
      payload: { question: words.join(" ") },
    }))
  );

  withIdentity(
    publish.command("intent")
      .description("Claim files before editing them")
      .option("--files <list>", "files, comma separated", collect)
      .option(
        "--region <path:kind:value>",
        "narrow a file to a function|class|block|range (repeatable), e.g. src/a.ts:function:parse or src/a.ts:range:10-40",
        collect,
      )
      .requiredOption("--summary <text>", "what you are about to do")
      .option(
        "--ttl <seconds>",
        "how long the claim holds (default 900)",
        intArg("--ttl", 1, 86400),
      ),
  ).action((
    o: Common & {
      files?: string[];
      region?: string[];
      summary: string;
      ttl?: number;
    },
  ) =>
    send(o, (id) => {
      const files = h.intentFiles(h.listArg(o.files), o.region ?? []);
      if (files.length === 0) {
        throw new UsageError(
          "publish intent needs --files <list> or --region <spec>",
        );
      }
      return {
        type: "agent.intent",
        agent_id: id.agentId,
        payload: {
          files,
          summary: o.summary,
          ...(o.ttl === undefined ? {} : { valid_for_seconds: o.ttl }),
        },
      };
    })
  );

  withIdentity(
    publish.command("verified <agent>")
      .description("Record that you verified another agent's work")
      .option("--message <text>", "note for the agent"),
  ).action((agent: string, o: Common & { message?: string }) =>
    send(o, (id) => ({
      type: "agent.verified",
      agent_id: agent,
      payload: { verified_by: id.agentId, message: o.message ?? null },
    }))
  );

  withIdentity(
    publish.command("feedback <agent>")
      .description("Send problems found in another agent's work")
      .requiredOption("--error <text>", "one problem (repeatable)", collect),
  ).action((agent: string, o: Common & { error: string[] }) =>
    send(o, (id) => ({
      type: "agent.feedback",
      agent_id: agent,
      payload: { from: id.agentId, errors: o.error },
    }))
  );

  withIdentity(
    publish.command("raw [json]")
      .description(
        "Publish a message given as JSON (argument or stdin), validated first",
      ),
  ).action(async (json: string | undefined, o: Common) => {
    const text = json ?? await new Response(Deno.stdin.readable).text();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new UsageError(`invalid JSON: ${(e as Error).message}`);
    }
    await send(o, () => value);
  });

  withIdentity(
    program.command("inbox")
      .description(
        "Print messages for this agent that arrived since the last call",
      )
      .option(
        "--wait <seconds>",
        "wait up to this long for a message (max 60)",
        intArg("--wait", 0, 60),
      )
      .option(
        "--all",
        "start from the first message instead of the stored cursor",
      )
      .option("--peek", "do not advance the stored cursor"),
  ).action(
    async (o: Common & { wait?: number; all?: boolean; peek?: boolean }) => {
      const id = await identity(o);
      for (const n of await h.flushOutbox(id)) eprintln(n);
      const path = await h.cursorPath(Deno.cwd());
      const stored = await h.readCursor(path, id);
      const since = o.all ? 0 : stored;
      const page = await h.fetchInbox(id, since, o.wait ?? 0);
      if (o.json) {
        printJson({
          agent_id: id.agentId,
          since,
          last_seq: page.last_seq,
          messages: page.messages,
        });
      } else if (page.messages.length === 0) {
        eprintln(`no new messages for ${id.agentId}`);
      } else {
        for (const m of page.messages) println(h.formatInboxMessage(m));
      }
      const next = Math.max(since, page.last_seq);
      if (!o.peek && next !== stored) await h.writeCursor(path, id, next);
    },
  );

  withIdentity(
    program.command("done")
      .description("Announce that your work is finished (commit first)")
      .option("--message <text>", "what you did")
      .option("--exports <list>", "exported names, comma separated", collect),
  ).action(async (o: Common & { message?: string; exports?: string[] }) => {
    const id = await identity(o);
    if (o.message !== undefined) {
      const r = await h.publishMessage(id, {
        type: "agent.status",
        agent_id: id.agentId,
        payload: { status: "done", modified_files: [], message: o.message },
      });
      for (const n of r.notes) eprintln(n);
      if (r.queued !== undefined) {
        eprintln(`note: agent.status kept in the outbox — ${r.queued}`);
      }
    }
    await send(o, () => ({
      type: "agent.artifact",
      agent_id: id.agentId,
      payload: {
        status: "done",
        exports: h.listArg(o.exports),
        modified_files: [],
      },
    }));
  });

  program.command("__hook <name>", { hidden: true })
    .description("internal: run a git-paw git hook")
    .allowUnknownOption(true)
    .allowExcessArguments(true)
    .action(async (name: string) => {
      const { runHook } = await import("./hooks.ts");
      const code = await runHook(name, { cwd: Deno.cwd(), io: { eprintln } });
      if (code !== 0) Deno.exitCode = code;
    });
}
