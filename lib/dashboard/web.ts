/**
 * The live web dashboard as a broker plugin: `GET /` serves the page
 * ({@link renderWebPage}), `GET /events` the server-sent event stream
 * ({@link SseHub}) and `GET /view` the page's current view as JSON
 * ({@link WebView}: agent rows, ages, counts and attention, computed by the
 * same code as the TUI's). The routes sit on the broker's own Hono app, so the
 * broker's Host/Origin/token checks run first; `/events` additionally refuses
 * any request a browser marks as coming from another site, because an event
 * stream is data a foreign page must never read.
 *
 * The page's own writes besides review comments and approvals (those are
 * the review and approvals plugins' routes, `POST /approvals/:id/approve`
 * and `/deny` with `by: "web"`):
 * - `GET /needs-you` → `{items: [NeedsYouItem]}` (lib/core/needs_you.ts);
 * - `POST /needs-you/:agent/answer` `{ref, text}` → 202 `{ok, seq}`: an
 *   `agent.feedback` from `web` answering the agent's open question or wait
 *   `ref`; 409 when it was already answered, 404 unknown;
 * - `POST /needs-you/:agent/tell` `{text}` → 202 `{ok, seq}`: an
 *   `agent.feedback` from `web` with the text; 404 for an agent not in the
 *   roster.
 * Like every write they need the token when the broker has one (from the
 * page: the cookie, same origin and `X-Git-Paw-Csrf: 1`:
 * lib/broker/handler.ts); a browser must send that header even without a
 * token ({@link pageWriteRefusal}).
 * @module
 */
import { z } from "zod";
import type { Context } from "hono";
import type { Broker, BrokerPlugin } from "../broker/api.ts";
import { pageWriteRefusal } from "../broker/handler.ts";
import { normaliseAgentId } from "../core/messages.ts";
import { MAX_WEB_TEXT } from "../core/needs_you.ts";
import { SseHub, type SseHubOptions } from "./sse.ts";
import { pageCsp, renderWebPage } from "./web_page.ts";
import { type PaneTeller, type SendResult, WebView } from "./web_view.ts";
import { DEFAULT_DASHBOARD_SETTINGS } from "../core/dashboard_settings.ts";

/** Options for {@link webPlugin}. */
export type WebPluginOptions = {
  /** Session name shown on the page (default: the broker's). */
  session?: string;
  /** Silence (s) after which a non-terminal agent needs attention. Default 300. */
  stallThresholdSeconds?: number;
  /** Messages kept on the page. Default 500. */
  maxMessages?: number;
  /** SSE tuning (heartbeat, queue bound). */
  sse?: SseHubOptions;
  /** Each agent's `PORT` by agent id (shown after its id). */
  agentPorts?: () => ReadonlyMap<string, number>;
  /** The page's Tell types into an idle pane first (the session's tell). */
  tellPane?: PaneTeller;
};

/** The web dashboard plugin, with a probe for tests and diagnostics. */
export type WebPlugin = BrokerPlugin & {
  /** Connected `/events` clients (0 before the routes are mounted). */
  sseClients(): number;
};

/** Default for `[notify] stall_threshold_seconds`. */
const DEFAULT_STALL_THRESHOLD_SECONDS =
  DEFAULT_DASHBOARD_SETTINGS.stallThresholdSeconds;

/**
 * Refusal for a request a browser sent on behalf of another site, or null.
 * Browsers send `Origin` on cross-origin fetches and `EventSource`s, and
 * `Sec-Fetch-Site` on every request; tools like curl send neither.
 */
export function crossSiteRefusal(req: Request): Response | null {
  const origin = req.headers.get("origin");
  const site = req.headers.get("sec-fetch-site");
  let foreign = site === "cross-site" || site === "same-site";
  if (origin !== null) {
    let own: string;
    try {
      own = new URL(req.url).origin;
    } catch {
      own = "";
    }
    if (origin !== own) foreign = true;
  }
  if (!foreign) return null;
  return Response.json(
    {
      error: "cross-origin request refused",
      detail:
        "the event stream is served only to the dashboard page of this broker",
    },
    { status: 403 },
  );
}

const Text = z.string({ error: "text must be a string" })
  .refine((t) => t.trim() !== "", "text must not be blank")
  .refine(
    (t) => t.length <= MAX_WEB_TEXT,
    `text must be at most ${MAX_WEB_TEXT} characters`,
  );

/** `POST /needs-you/:agent/answer` body. */
export const AnswerBody = z.object({
  ref: z.number({ error: "ref must be the question's or wait's seq" }).int()
    .min(1, "ref must be a positive integer"),
  text: Text,
});

/** `POST /needs-you/:agent/tell` body. */
export const TellBody = z.object({ text: Text });

/** Parse a page write's JSON body with `schema`; the value or a 4xx. */
async function pageBody<T>(
  c: Context,
  schema: z.ZodType<T>,
): Promise<
  { ok: true; value: T; agent: string } | { ok: false; res: Response }
> {
  const refused = pageWriteRefusal(c.req.raw);
  if (refused) return { ok: false, res: refused };
  const id = normaliseAgentId(c.req.param("agent") ?? "");
  if (!id.ok) {
    return { ok: false, res: Response.json(id.error.body, { status: 400 }) };
  }
  if (!/^application\/json\s*(;|$)/i.test(c.req.header("content-type") ?? "")) {
    return {
      ok: false,
      res: Response.json({ error: "Content-Type must be application/json" }, {
        status: 415,
      }),
    };
  }
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch (e) {
    return {
      ok: false,
      res: Response.json({ error: `invalid JSON: ${(e as Error).message}` }, {
        status: 400,
      }),
    };
  }
  const r = schema.safeParse(raw);
  if (!r.success) {
    return {
      ok: false,
      res: Response.json({
        error: r.error.issues[0]?.message ?? "invalid body",
      }, {
        status: 400,
      }),
    };
  }
  return { ok: true, value: r.data, agent: id.id };
}

function sent(r: SendResult): Response {
  return r.ok
    ? Response.json({
      ok: true,
      seq: r.seq,
      ...(r.route ? { route: r.route } : {}),
      ...(r.why ? { why: r.why } : {}),
    }, { status: 202 })
    : Response.json({ error: r.error }, { status: r.status });
}

function nonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(18));
  return btoa(String.fromCharCode(...bytes));
}

/** Answer `GET /` with the dashboard page and strict security headers. */
export function servePage(
  broker: Broker,
  opts: WebPluginOptions = {},
): Response {
  const n = nonce();
  const html = renderWebPage({
    session: opts.session ?? broker.session,
    nonce: n,
    stallThresholdSeconds: opts.stallThresholdSeconds ??
      DEFAULT_STALL_THRESHOLD_SECONDS,
    maxMessages: opts.maxMessages ?? DEFAULT_DASHBOARD_SETTINGS.maxMessages,
  });
  return new Response(html, {
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": pageCsp(n),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      "x-frame-options": "DENY",
      "referrer-policy": "no-referrer",
      "cross-origin-opener-policy": "same-origin",
      "cross-origin-resource-policy": "same-origin",
    },
  });
}

/**
 * The web dashboard plugin: mounts `GET /` and `GET /events` on the broker,
 * and closes every event stream when the broker stops.
 */
export function webPlugin(opts: WebPluginOptions = {}): WebPlugin {
  let hub: SseHub | null = null;
  let view: WebView | null = null;
  return {
    name: "web-dashboard",
    routes(app, broker) {
      hub?.close();
      void view?.stop();
      const v = new WebView(broker, {
        ...(opts.session !== undefined ? { session: opts.session } : {}),
        stallThresholdSeconds: opts.stallThresholdSeconds ??
          DEFAULT_STALL_THRESHOLD_SECONDS,
        maxMessages: opts.maxMessages ??
          DEFAULT_DASHBOARD_SETTINGS.maxMessages,
        ...(opts.agentPorts ? { agentPorts: opts.agentPorts } : {}),
        ...(opts.tellPane ? { tellPane: opts.tellPane } : {}),
      });
      view = v;
      // The stream's `hello` names the same session as the page.
      const h = new SseHub(broker, {
        ...opts.sse,
        ...(opts.session !== undefined ? { session: opts.session } : {}),
        view: v,
      });
      hub = h;
      app.get("/", () => servePage(broker, opts));
      app.get(
        "/events",
        (c) => crossSiteRefusal(c.req.raw) ?? h.handle(c.req.raw),
      );
      app.get(
        "/view",
        (c) =>
          crossSiteRefusal(c.req.raw) ??
            Response.json(
              { ...v.snapshot(), last_seq: broker.lastSeq() },
              { headers: { "cache-control": "no-store" } },
            ),
      );
      app.get(
        "/needs-you",
        async (c) =>
          crossSiteRefusal(c.req.raw) ??
            Response.json({ items: await v.needsYou() }, {
              headers: { "cache-control": "no-store" },
            }),
      );
      app.post("/needs-you/:agent/answer", async (c) => {
        const b = await pageBody(c, AnswerBody);
        if (!b.ok) return b.res;
        return sent(await v.answer(b.agent, b.value.ref, b.value.text));
      });
      app.post("/needs-you/:agent/tell", async (c) => {
        const b = await pageBody(c, TellBody);
        if (!b.ok) return b.res;
        return sent(await v.tell(b.agent, b.value.text));
      });
    },
    async start() {
      const v = view;
      await v?.start();
      return async () => {
        hub?.close();
        await v?.stop();
      };
    },
    sseClients() {
      return hub?.clientCount ?? 0;
    },
  };
}
