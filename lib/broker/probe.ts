/**
 * What is listening on a broker URL (SPEC §8.1, with our rule that only a
 * broker of the same session may be reattached).
 *
 * Permissions: `--allow-net` to the probed address.
 * @module
 */

/**
 * - `free`: nothing listens there;
 * - `ours`: a git-paw broker of the expected session (reattachable);
 * - `other-session`: a git-paw broker of another session (or one that
 *   refused our token, so its session is unknown);
 * - `foreign`: some other HTTP server;
 * - `timeout`: no (or a garbled) answer within 500 ms.
 */
export type ProbeResult =
  | "free"
  | "ours"
  | "other-session"
  | "foreign"
  | "timeout";

/** Options for {@link probeBroker}. */
export type ProbeOptions = {
  /** Bearer token to present. */
  token?: string;
  /** Connect + read timeout. Default 500 ms. */
  timeoutMs?: number;
};

/**
 * Probe `GET <url>/status`. Without `expectedSession`, any git-paw broker
 * counts as `ours`.
 */
export async function probeBroker(
  url: string,
  expectedSession?: string,
  opts: ProbeOptions = {},
): Promise<ProbeResult> {
  const timeoutMs = opts.timeoutMs ?? 500;
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const headers: Record<string, string> = {};
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let res: Response;
    try {
      res = await fetch(new URL("/status", url), {
        signal: ac.signal,
        headers,
      });
    } catch (e) {
      if (ac.signal.aborted) return "timeout";
      const err = e as Error & { cause?: unknown };
      const msg = `${err?.message ?? e} ${String(err?.cause ?? "")}`;
      if (/refused|ECONNREFUSED|os error 111/i.test(msg)) return "free";
      // Connection reset / not HTTP: something is there but it is not us.
      return "timeout";
    }
    let text: string;
    try {
      text = await res.text();
    } catch {
      return "timeout";
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return "foreign";
    }
    if (
      typeof body !== "object" || body === null ||
      (body as { git_paw?: unknown }).git_paw !== true
    ) return "foreign";
    const session = (body as { session?: unknown }).session;
    if (expectedSession === undefined) return "ours";
    return session === expectedSession ? "ours" : "other-session";
  } finally {
    clearTimeout(timer);
  }
}
