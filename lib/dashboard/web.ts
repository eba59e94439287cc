/**
 * The live web dashboard as a broker plugin: `GET /` serves the page
 * ({@link renderWebPage}), `GET /events` the server-sent event stream
 * ({@link SseHub}) and `GET /view` the page's current view as JSON
 * ({@link WebView}: agent rows, ages, counts and attention, computed by the
 * same code as the TUI's). The routes sit on the broker's own Hono app, so the
 * broker's Host/Origin/token checks run first; `/events` additionally refuses
 * any request a browser marks as coming from another site, because an event
 * stream is data a foreign page must never read.
 * @module
 */
import type { Broker, BrokerPlugin } from "../broker/api.ts";
import { SseHub, type SseHubOptions } from "./sse.ts";
import { pageCsp, renderWebPage } from "./web_page.ts";
import { WebView } from "./web_view.ts";
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
