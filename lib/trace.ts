/**
 * Phase timing for performance work: with `GIT_PAW_TRACE=1`, `trace("phase")`
 * prints `trace <ms since process start> phase` on stderr. Costs one env
 * lookup when off.
 * @module
 */
const on = (() => {
  try {
    return !!Deno.env.get("GIT_PAW_TRACE");
  } catch {
    return false;
  }
})();
const enc = new TextEncoder();

/** Print a phase mark on stderr when `GIT_PAW_TRACE` is set. */
export function trace(phase: string): void {
  if (!on) return;
  Deno.stderr.writeSync(
    enc.encode(`trace ${performance.now().toFixed(1)}ms ${phase}\n`),
  );
}
