/**
 * Reads the few config values coordination needs, tolerating any config shape
 * (the schema belongs to the Sessions area). Pure.
 * @module
 */
import type { Config } from "../core/config.ts";

/** The value at `path` inside `config`, or undefined. */
export function configAt(config: Config | undefined, path: string[]): unknown {
  let cur: unknown = config;
  for (const key of path) {
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) {
      return undefined;
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

/** A non-blank string at `path`, else null. */
export function configString(
  config: Config | undefined,
  path: string[],
): string | null {
  const v = configAt(config, path);
  return typeof v === "string" && v.trim() !== "" ? v : null;
}

/** A boolean at `path`, else `fallback`. */
export function configBool(
  config: Config | undefined,
  path: string[],
  fallback: boolean,
): boolean {
  const v = configAt(config, path);
  return typeof v === "boolean" ? v : fallback;
}
