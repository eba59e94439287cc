/**
 * One abortable sleep for every area's waits (the broker client's retries,
 * the demo agent, the unattended drive loop, pane 0's waits).
 * @module
 */

/** Resolve after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok) => {
    if (signal?.aborted) return ok();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      ok();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
