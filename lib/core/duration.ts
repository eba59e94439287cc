/**
 * The one duration formatter: every age, silence and stuck time the TUI, the
 * web page, alerts and learnings show is a whole number of seconds turned
 * into text here. Pure.
 * @module
 */

/** Options for {@link formatDuration}. */
export type FormatDurationOptions = {
  /**
   * Keep every unit, two-digit padded: `1h02m03s`, `11m12s`, `45s` (the
   * learnings file's form). Default: the largest unit(s) only, `1h 2m`,
   * `11m`, `45s` (the dashboards' form).
   */
  precise?: boolean;
};

/**
 * Text of a duration given in seconds (fractions are cut, negatives are 0).
 *
 * @example
 * ```ts
 * import { formatDuration } from "./duration.ts";
 * formatDuration(3723); // "1h 2m"
 * formatDuration(672, { precise: true }); // "11m12s"
 * ```
 */
export function formatDuration(
  seconds: number,
  opts: FormatDurationOptions = {},
): string {
  const total = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  if (opts.precise) {
    const p = (n: number) => String(n).padStart(2, "0");
    if (h > 0) return `${h}h${p(m)}m${p(s)}s`;
    if (m > 0) return `${m}m${p(s)}s`;
    return `${s}s`;
  }
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}
