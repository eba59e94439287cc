/**
 * The one poll-until helper of the test suite.
 * @module
 */

/** Options of {@link waitFor}. */
export type WaitOptions = {
  /** Give up after this long (default 30 s; only a failing test waits it out). */
  timeoutMs?: number;
  /** First pause between probes (default 10 ms); it doubles up to `maxIntervalMs`. */
  intervalMs?: number;
  /** Longest pause between probes (default 500 ms). */
  maxIntervalMs?: number;
  /** More to say on timeout (a pane's screen, a log). */
  detail?: () => string | Promise<string>;
};

/**
 * Probe until `probe` returns a truthy value and return it. A probe that
 * throws counts as "not yet" (its error is reported on timeout). Throws
 * naming `what`, the last answer and `detail()` after `timeoutMs`; a number
 * for `opts` is the timeout.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | Promise<T>,
  opts: WaitOptions | number = {},
): Promise<NonNullable<T>> {
  const o = typeof opts === "number" ? { timeoutMs: opts } : opts;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let delay = o.intervalMs ?? 10;
  let last: unknown;
  for (;;) {
    try {
      last = await probe();
      if (last) return last as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const more = o.detail ? `\n${await o.detail()}` : "";
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}; last: ${
          last instanceof Error ? last.message : JSON.stringify(last)
        }${more}`,
      );
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, Math.max(o.maxIntervalMs ?? 500, delay));
  }
}
