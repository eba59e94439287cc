/**
 * What is listening on a broker URL (docs/REFERENCE.md, "Broker lifecycle": our rule that only a
 * broker of the same session may be reattached).
 *
 * Permissions: `--allow-net` to the probed address.
 * @module
 */

import {
  brokerClient,
  BrokerUnreachableError,
  describeProbe,
  isConnectionRefused,
  type ProbeResult,
} from "./client.ts";

export { describeProbe, type ProbeResult };

/** Options for {@link probeBroker}. */
export type ProbeOptions = {
  /** Bearer token to present. */
  token?: string;
  /** Connect + read timeout. Default 500 ms. */
  timeoutMs?: number;
  /**
   * Canonical path of the expected session's repo: a broker counts as
   * `ours` only when its `/status` names this very repo (a broker of
   * another repo whose session has the same name, or one that does not say
   * which repo it serves, is `other-session`).
   */
  repo?: string;
};

/**
 * Probe `GET <url>/status`. Without `expectedSession`, any git-paw broker
 * counts as `ours`; with it, only a broker of that session (and of
 * `opts.repo`, when given).
 */
export async function probeBroker(
  url: string,
  expectedSession?: string,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  let reply;
  try {
    reply = await brokerClient(url, { token: opts.token }).status({
      timeoutMs: opts.timeoutMs ?? 500,
    });
  } catch (e) {
    if (!(e instanceof BrokerUnreachableError) || e.timedOut) return "timeout";
    if (isConnectionRefused(e.cause)) return "free";
    // Deno's fetch only says "fetch failed"; ask the socket layer directly
    // whether anything accepts connections there.
    if (await portIsClosed(url)) return "free";
    // Connection reset / not HTTP: something is there but it is not us.
    return "timeout";
  }
  const body = reply.json;
  if (
    typeof body !== "object" || body === null ||
    (body as { git_paw?: unknown }).git_paw !== true
  ) return "foreign";
  const { session, repo } = body as { session?: unknown; repo?: unknown };
  if (expectedSession === undefined) return "ours";
  if (session !== expectedSession) return "other-session";
  if (opts.repo !== undefined && repo !== opts.repo) return "other-session";
  return "ours";
}

/** True when a TCP connect to the URL's host:port is refused. */
async function portIsClosed(url: string): Promise<boolean> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
  const hostname = u.hostname.replace(/^\[|\]$/g, "");
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return false;
  } catch (e) {
    return e instanceof Deno.errors.ConnectionRefused;
  }
}
