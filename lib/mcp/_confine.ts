/**
 * Path confinement for the tools that read files named by the caller: the
 * path is resolved against a base directory, symlinks and `..` included,
 * and must still lie inside it. Needs `--allow-read`.
 * @module
 */
import { isAbsolute, relative, resolve, sep } from "node:path";

/** Outcome of {@link confine}. */
export type Confined =
  | { ok: true; real: string; rel: string }
  | { ok: false; reason: "outside" | "missing" };

/**
 * Resolve `path` under `base` (symlinks followed). `outside` when the real
 * target is not `base` or below it; `missing` when nothing is there (a
 * dangling link included). Absolute paths are taken as they are and so are
 * refused unless they point inside `base`.
 */
export async function confine(base: string, path: string): Promise<Confined> {
  let realBase: string;
  try {
    realBase = await Deno.realPath(base);
  } catch {
    return { ok: false, reason: "missing" };
  }
  const wanted = isAbsolute(path) ? path : resolve(base, path);
  let real: string;
  try {
    real = await Deno.realPath(wanted);
  } catch {
    // Say "outside" for a lexical escape even when the target is missing.
    const lexical = relative(resolve(base), resolve(wanted));
    return {
      ok: false,
      reason: lexical.startsWith("..") || isAbsolute(lexical)
        ? "outside"
        : "missing",
    };
  }
  if (real !== realBase && !real.startsWith(realBase + sep)) {
    return { ok: false, reason: "outside" };
  }
  return { ok: true, real, rel: relative(realBase, real) };
}
