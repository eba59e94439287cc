/**
 * `git paw tell <agent> <text...> [--queue] [--json]`: give an agent a
 * message. When its CLI sits idle at its input prompt (its screen, read by
 * lib/core/screen_detect.ts; not at a permission prompt or trust dialog,
 * not mid-turn, no approval of it pending) the text is typed into its pane
 * (`send-keys -l`, the CLI's `submit_delay_ms`, then Enter); otherwise it
 * is queued as `agent.feedback` to the agent (lib/core/tell_route.ts).
 * Prints the route taken. An unknown agent: one line, exit 1, nothing sent.
 *
 * Needs `--allow-run=git,tmux`, `--allow-net` (the broker),
 * `--allow-read`/`--allow-env`.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { slugify } from "../core/slug.ts";
import { detectScreen } from "../core/screen_detect.ts";
import { type TellRoute, tellRoute, tellText } from "../core/tell_route.ts";
import { DEFAULT_SUBMIT_DELAY_MS } from "../core/config.ts";
import type { Receipt } from "../core/session.ts";
import { capturePanes, sendKey, sendLiteral } from "../adapters/tmux.ts";
import { brokerClient, replyText } from "../broker/client.ts";
import { sessionSpeakerKey } from "./credentials.ts";
import { printJson, println } from "../output.ts";
import { readSnapshot, sessionReceipt } from "./agents_cmd.ts";

/** What `tell` did. */
export type TellResult = {
  agent: string;
  route: "keys" | "feedback";
  /** Why the inbox was used (null when typed). */
  why: string | null;
  pane: string | null;
  text: string;
};

/** Options of {@link tellAgent}. */
export type TellOptions = {
  /** `--queue`: always the inbox. */
  queue?: boolean;
  /** Sender of the feedback (default `$GIT_PAW_AGENT_ID`, else `user`). */
  from?: string;
  token?: string;
  /** Between typing and Enter (default: the CLI's `submit_delay_ms`). */
  submitDelayMs?: number;
  /**
   * Only type: when the route is the inbox, say why and send nothing (the
   * caller queues it its own way: the web page's Tell).
   */
  typeOnly?: boolean;
};

/** The receipt's agent named by `name` (its id or its branch), or an error. */
function findAgent(
  receipt: Receipt,
  name: string,
): { id: string; branch: string; cli: string } {
  const w = receipt.worktrees.find((w) =>
    w.branch === name || slugify(w.branch) === name ||
    slugify(w.branch) === slugify(name)
  );
  if (!w) {
    const ids = receipt.worktrees.map((x) => slugify(x.branch)).join(", ");
    throw new AppError(
      `unknown agent '${name}' in session '${receipt.session_name}' (agents: ${
        ids || "none"
      })`,
      "unknown_agent",
    );
  }
  return { id: slugify(w.branch), branch: w.branch, cli: w.cli };
}

async function submitDelay(receipt: Receipt, cli: string): Promise<number> {
  try {
    const [{ loadConfig }, { resolveCli }] = await Promise.all([
      import("./config_store.ts"),
      import("./clis.ts"),
    ]);
    const config = await loadConfig(receipt.repo_path, { onWarning: () => {} });
    return resolveCli(cli, config).submit_delay_ms;
  } catch {
    return DEFAULT_SUBMIT_DELAY_MS;
  }
}

/**
 * Send `text` to `agentName` of the session in `receipt` by the route
 * {@link tellRoute} picks.
 * @throws {AppError} unknown agent; no broker for the feedback route
 */
export async function tellAgent(
  receipt: Receipt,
  agentName: string,
  text: string,
  opts: TellOptions = {},
): Promise<TellResult> {
  const agent = findAgent(receipt, agentName);
  const line = tellText(text);
  if (line === "") throw new AppError("nothing to tell: the text is empty");
  const snap = await readSnapshot(receipt, { token: opts.token, logWindow: 0 });
  const pane = snap.panes.get(agent.id) ?? null;
  let route: TellRoute;
  if (opts.queue) route = tellRoute(ctxOf(null));
  else {
    const screens = pane ? await capturePanes([pane]) : new Map();
    const raw = pane ? screens.get(pane) : undefined;
    const cli = agent.cli.trim().split(/\s+/)[0] ?? "";
    route = tellRoute(ctxOf(raw === undefined ? null : detectScreen(cli, raw)));
  }
  function ctxOf(screen: ReturnType<typeof detectScreen> | null) {
    return {
      forceQueue: opts.queue ?? false,
      pane,
      screen,
      status: snap.roster.find((r) => r.agent_id === agent.id)?.status ?? "",
      pendingApproval: snap.approvals.some((a) =>
        a.agent === agent.id && a.decision === null && a.mode === "queue"
      ),
    };
  }
  if (route.route === "keys" && pane) {
    const delay = opts.submitDelayMs ?? await submitDelay(receipt, agent.cli);
    await sendLiteral(pane, line);
    await new Promise((r) => setTimeout(r, delay));
    await sendKey(pane, "Enter");
    return {
      agent: agent.id,
      route: "keys",
      why: null,
      pane,
      text: line,
    };
  }
  const why = route.route === "feedback" ? route.why : "";
  if (opts.typeOnly) {
    return { agent: agent.id, route: "feedback", why, pane, text: line };
  }
  if (!snap.brokerUrl) {
    throw new AppError(
      `Cannot queue feedback for ${agent.id} (${why}): session '${receipt.session_name}' runs without a broker`,
      "no_broker",
    );
  }
  const from = opts.from ?? (Deno.env.get("GIT_PAW_AGENT_ID") || "user");
  const key = await sessionSpeakerKey(receipt.session_name);
  const c = brokerClient(snap.brokerUrl, {
    token: snap.token,
    ...(key ? { agentKey: key } : {}),
  });
  const reply = await c.publish({
    type: "agent.feedback",
    agent_id: agent.id,
    payload: { from, errors: [line] },
  });
  if (!reply.ok) {
    throw new AppError(
      `Cannot queue feedback for ${agent.id}: ${replyText(reply)}`,
      "tell",
    );
  }
  return {
    agent: agent.id,
    route: "feedback",
    why,
    pane,
    text: line,
  };
}

/** `git paw tell`. */
export async function tellCommand(
  agent: string,
  words: string[],
  opts: TellOptions & { json?: boolean; session?: string },
): Promise<void> {
  const receipt = await sessionReceipt(opts.session);
  const r = await tellAgent(receipt, agent, words.join(" "), opts);
  if (opts.json) {
    printJson(r);
    return;
  }
  println(
    r.route === "keys"
      ? `typed into ${r.agent}'s pane (${r.pane})`
      : `queued as agent.feedback to ${r.agent}: ${r.why}`,
  );
}
