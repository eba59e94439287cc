/**
 * Phase timing for performance work: with `GIT_PAW_TRACE=1`, `trace("phase")`
 * prints `trace <ms since process start> phase` on stderr; with
 * `GIT_PAW_TRACE=/some/file` the line (prefixed by the pid) is appended to
 * that file instead, which also times the pane processes a session starts.
 * Costs one env lookup when off.
 * @module
 */
const target = (() => {
  try {
    return Deno.env.get("GIT_PAW_TRACE") ?? "";
  } catch {
    return "";
  }
})();
const enc = new TextEncoder();

/** True when `GIT_PAW_TRACE` is set: guard marks that cost work to build. */
export const tracing: boolean = target !== "";

/** Print a phase mark when `GIT_PAW_TRACE` is set. */
export function trace(phase: string): void {
  if (!target) return;
  const ms = performance.now().toFixed(1);
  if (!target.includes("/")) {
    Deno.stderr.writeSync(enc.encode(`trace ${ms}ms ${phase}\n`));
    return;
  }
  try {
    Deno.writeTextFileSync(
      target,
      `${Date.now()} ${Deno.pid} ${ms}ms ${phase}\n`,
      { append: true },
    );
  } catch { /* tracing must never break a command */ }
}
