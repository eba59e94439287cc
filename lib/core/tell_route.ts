/**
 * `git paw tell <agent> <text>`: how the text reaches the agent. Typed into
 * its pane (tmux `send-keys`, then Enter) only when its CLI sits idle at
 * its input prompt — never while it waits at a permission prompt, a trust
 * dialog or another question, never mid-turn, never while an approval of
 * it is pending (a `needs_input` on the roster counts unless the screen
 * shows the idle prompt: the roster lags an answered prompt); otherwise
 * queued as `agent.feedback` to it, which the
 * agent reads from its inbox. Pure.
 * @module
 */
import type { ScreenState } from "./screen_detect.ts";
import { oneLineText } from "./cli_events.ts";

/** The route taken, and why when it is the inbox. */
export type TellRoute =
  | { route: "keys" }
  | { route: "feedback"; why: string };

/** What is known about the agent when the text is sent. */
export type TellContext = {
  /** `--queue`: always the inbox. */
  forceQueue: boolean;
  /** The agent's tmux pane, null when it has none. */
  pane: string | null;
  /** What its screen shows (null: not captured). */
  screen: ScreenState | null;
  /** Roster status (`""` unknown). */
  status: string;
  /** An approval of the agent waits in the queue. */
  pendingApproval: boolean;
};

/**
 * Decide the route.
 *
 * @example
 * ```ts
 * import { tellRoute } from "./tell_route.ts";
 * tellRoute({ forceQueue: false, pane: "%3", status: "idle",
 *   pendingApproval: false, screen: { kind: "idle", detail: "" } });
 * // { route: "keys" }
 * ```
 */
export function tellRoute(ctx: TellContext): TellRoute {
  if (ctx.forceQueue) return { route: "feedback", why: "--queue" };
  if (ctx.pane === null) {
    return { route: "feedback", why: "the agent has no pane" };
  }
  if (ctx.pendingApproval) {
    return {
      route: "feedback",
      why: "its CLI waits for a decision in the approval queue",
    };
  }
  const s = ctx.screen;
  // A `needs_input` on the roster is trusted unless the screen shows the
  // idle prompt itself (the roster lags a prompt answered a moment ago).
  if (ctx.status === "needs_input" && s?.kind !== "idle") {
    return {
      route: "feedback",
      why: "its CLI waits for a person (a prompt or a dialog)",
    };
  }
  if (s === null) {
    return { route: "feedback", why: "its pane could not be read" };
  }
  switch (s.kind) {
    case "idle":
      return { route: "keys" };
    case "permission":
      return {
        route: "feedback",
        why: `its pane waits at a permission prompt${
          s.detail ? ` (${s.detail})` : ""
        }`,
      };
    case "trust":
      return { route: "feedback", why: "its pane shows a trust dialog" };
    case "question":
      return {
        route: "feedback",
        why: `its pane asks a question${s.detail ? ` (${s.detail})` : ""}`,
      };
    case "working":
      return { route: "feedback", why: "its CLI is in the middle of a turn" };
    case "unknown":
      return {
        route: "feedback",
        why: "its pane does not show the CLI's input prompt",
      };
  }
}

/**
 * The text as typed: one line (a newline would submit early; control
 * characters could drive the CLI), at most `max` characters.
 */
export function tellText(text: string, max = 4000): string {
  return oneLineText(text, max);
}
