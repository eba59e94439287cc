/**
 * Reading untyped JSON (a CLI hook's payload, a request body) field by field
 * without casts: a value that is not what the caller needs reads as empty.
 * Pure.
 * @module
 */

/** A JSON object read loosely. */
export type LooseObject = Record<string, unknown>;

/**
 * `v` when it is a plain object, else `{}`.
 *
 * @example
 * ```ts
 * import { looseObject } from "./loose_json.ts";
 * looseObject([1]); // {}
 * ```
 */
export function looseObject(v: unknown): LooseObject {
  return v !== null && typeof v === "object" && !Array.isArray(v)
    ? v as LooseObject
    : {};
}

/** `v` when it is a string with more than white space, else null. */
export function looseText(v: unknown): string | null {
  return typeof v === "string" && v.trim() !== "" ? v : null;
}
