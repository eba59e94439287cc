/**
 * Merge git-paw's entries into a JSON settings file the user may own, and
 * take exactly those entries out again. The merge only adds: a key the user
 * has keeps the user's value (objects are merged key by key, arrays get our
 * items appended when not already there); what was added is returned as a
 * patch, which {@link unmergeJson} removes. Pure.
 * @module
 */
import type { Json } from "./cli_profiles.ts";

/** What {@link mergeJson} added. */
export type JsonPatch =
  /** A key that did not exist, with our whole value. */
  | { kind: "new"; value: Json }
  /** Additions inside an object the user already had. */
  | { kind: "object"; keys: { [key: string]: JsonPatch } }
  /** Items appended to an array the user already had. */
  | { kind: "items"; items: Json[] };

type JsonObject = { [key: string]: Json };

function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Structural equality of two JSON values (key order ignored). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length &&
      ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/**
 * Add `ours` to `base`. Returns the merged value and the patch of what was
 * added (null when nothing was: every entry was there already, or the user
 * holds a different value under the same key — theirs stays).
 *
 * @example
 * ```ts
 * import { mergeJson } from "./json_merge.ts";
 * mergeJson({ a: [1] }, { a: [2], b: true }).value; // { a: [1, 2], b: true }
 * ```
 */
export function mergeJson(
  base: Json | undefined,
  ours: Json,
): { value: Json; patch: JsonPatch | null } {
  if (base === undefined) {
    return {
      value: structuredClone(ours),
      patch: { kind: "new", value: ours },
    };
  }
  if (isObject(base) && isObject(ours)) {
    const value: JsonObject = { ...base };
    const keys: { [key: string]: JsonPatch } = {};
    for (const [k, v] of Object.entries(ours)) {
      const r = mergeJson(Object.hasOwn(base, k) ? base[k] : undefined, v);
      value[k] = r.value;
      if (r.patch) keys[k] = r.patch;
    }
    return {
      value,
      patch: Object.keys(keys).length ? { kind: "object", keys } : null,
    };
  }
  if (Array.isArray(base) && Array.isArray(ours)) {
    const items = ours.filter((x) => !base.some((y) => jsonEqual(x, y)));
    return {
      value: [...base, ...structuredClone(items)],
      patch: items.length ? { kind: "items", items } : null,
    };
  }
  return { value: base, patch: null };
}

/** Remove the first item equal to each of `items` from `arr`. */
function withoutItems(arr: Json[], items: Json[]): Json[] {
  const out = [...arr];
  for (const it of items) {
    const i = out.findIndex((x) => jsonEqual(x, it));
    if (i >= 0) out.splice(i, 1);
  }
  return out;
}

/** Undo a `new` patch: what is left of a key git-paw created. */
function withoutNew(current: Json, ours: Json): Json | undefined {
  if (jsonEqual(current, ours)) return undefined;
  if (isObject(current) && isObject(ours)) {
    const out: JsonObject = { ...current };
    for (const [k, v] of Object.entries(ours)) {
      if (!Object.hasOwn(out, k)) continue;
      const rest = withoutNew(out[k]!, v);
      if (rest === undefined) delete out[k];
      else out[k] = rest;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (Array.isArray(current) && Array.isArray(ours)) {
    const out = withoutItems(current, ours);
    return out.length ? out : undefined;
  }
  return current; // the user changed it: theirs now
}

/**
 * Take what `patch` added out of `current` (the file as it is now, possibly
 * edited since): our keys and items go, everything else stays. Returns
 * undefined when nothing is left of a value git-paw created.
 */
export function unmergeJson(
  current: Json | undefined,
  patch: JsonPatch,
): Json | undefined {
  if (current === undefined) return undefined;
  switch (patch.kind) {
    case "new":
      return withoutNew(current, patch.value);
    case "items":
      return Array.isArray(current)
        ? withoutItems(current, patch.items)
        : current;
    case "object": {
      if (!isObject(current)) return current;
      const out: JsonObject = { ...current };
      for (const [k, p] of Object.entries(patch.keys)) {
        if (!Object.hasOwn(out, k)) continue;
        const rest = unmergeJson(out[k], p);
        if (rest === undefined) delete out[k];
        else out[k] = rest;
      }
      return out;
    }
  }
}
