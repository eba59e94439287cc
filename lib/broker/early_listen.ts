/**
 * Bind the broker's port before the broker is loaded. Pane 0 calls this
 * first thing, so the port is held (and `start` can be told so) a few
 * milliseconds after the process starts, while the broker's modules and
 * state load. Requests that arrive meanwhile wait for the broker's handler
 * ({@link EarlyServer.attach}); if the broker never comes up they get a 503
 * ({@link EarlyServer.fail}). No dependencies beyond Deno: keep it small.
 *
 * Permissions: `--allow-net` (bind address).
 * @module
 */

/** A request handler as `Deno.serve` takes it. */
export type ServeHandler = (
  req: Request,
  info: Deno.ServeHandlerInfo<Deno.NetAddr>,
) => Response | Promise<Response>;

/** A bound server whose handler comes later. */
export type EarlyServer = {
  server: Deno.HttpServer<Deno.NetAddr>;
  /** The bound port (the OS's choice when asked for 0). */
  port: number;
  /**
   * Serve every request (held ones included) with `handler` from now on;
   * `onError` answers for a handler that throws.
   */
  attach(
    handler: ServeHandler,
    onError?: (e: unknown) => Response | Promise<Response>,
  ): void;
  /** The broker will not come up: answer held and later requests with 503. */
  fail(reason: string): void;
};

/**
 * Bind `hostname:port` now.
 * @throws {Deno.errors.AddrInUse} the port is held
 */
export function listenEarly(
  opts: { hostname: string; port: number },
): EarlyServer {
  let current: ServeHandler | null = null;
  let settle!: (h: ServeHandler) => void;
  const ready = new Promise<ServeHandler>((res) => settle = res);
  const server = Deno.serve({
    hostname: opts.hostname,
    port: opts.port,
    onListen: () => {},
  }, (req, info) => {
    const h = current;
    return h ? h(req, info) : ready.then((h) => h(req, info));
  });
  return {
    server,
    port: server.addr.port,
    attach(handler, onError) {
      const h: ServeHandler = onError
        ? async (req, info) => {
          try {
            return await handler(req, info);
          } catch (e) {
            return await onError(e);
          }
        }
        : handler;
      current = h;
      settle(h);
    },
    fail(reason) {
      const body = JSON.stringify({
        error: "broker_unavailable",
        detail: reason,
      });
      const unavailable: ServeHandler = () =>
        new Response(body, {
          status: 503,
          headers: { "content-type": "application/json" },
        });
      current = unavailable;
      settle(unavailable);
    },
  };
}
