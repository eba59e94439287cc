/**
 * Per-agent dev ports (pure): the block of consecutive ports each agent pane
 * gets (`PORT` = its first, `GIT_PAW_PORTS` = `first-last`), the
 * machine-wide registry document that keeps blocks apart across sessions,
 * and the first-fit allocation over it. `lib/session/ports.ts` does the
 * file, the lock and the bind probes.
 * @module
 */
import { z } from "zod";

/** Lowest port handed to agents: above most dev servers' defaults. */
export const PORT_BASE = 20000;
/** Highest port handed to agents: below Linux's ephemeral range (32768). */
const PORT_CEILING = 32767;
/** Well-known ports inside the range that a block never covers. */
const AVOID = new Set([27017, 27018, 27019, 28017]);

/** A block of `count` consecutive ports starting at `first`. */
export const PortBlock = z.object({
  first: z.number().int().min(1).max(65535),
  count: z.number().int().min(1).max(1000),
});
/** A block of `count` consecutive ports starting at `first`. */
export type PortBlock = z.infer<typeof PortBlock>;

/** One block held by one agent of one session. */
export const PortEntry = PortBlock.extend({
  session: z.string().min(1),
  repo: z.string().min(1),
  branch: z.string().min(1),
});
/** One block held by one agent of one session. */
export type PortEntry = z.infer<typeof PortEntry>;

/** The registry file `<data>/git-paw/ports.json`. */
export const PortRegistry = z.object({
  version: z.literal(1).default(1),
  entries: z.array(PortEntry).default(() => []),
});
/** The registry file. */
export type PortRegistry = z.infer<typeof PortRegistry>;

/** Parse the registry's JSON; anything unreadable is an empty registry. */
export function parsePortRegistry(raw: unknown): PortRegistry {
  const r = PortRegistry.safeParse(raw);
  return r.success ? r.data : { version: 1, entries: [] };
}

/**
 * `GIT_PAW_PORTS` of a block: `first-last` (`20000-20009`), one number
 * for a block of one.
 *
 * @example
 * ```ts
 * import { formatPorts } from "./ports.ts";
 * formatPorts({ first: 20000, count: 10 }); // "20000-20009"
 * ```
 */
export function formatPorts(b: PortBlock): string {
  return b.count === 1
    ? String(b.first)
    : `${b.first}-${b.first + b.count - 1}`;
}

/** `PORT` and `GIT_PAW_PORTS` of an agent holding block `b`. */
export function portEnv(b: PortBlock): { PORT: string; GIT_PAW_PORTS: string } {
  return { PORT: String(b.first), GIT_PAW_PORTS: formatPorts(b) };
}

/** True when blocks `a` and `b` share a port. */
export function overlaps(a: PortBlock, b: PortBlock): boolean {
  return a.first < b.first + b.count && b.first < a.first + a.count;
}

/** Options for {@link allocateBlock}. */
export type AllocateOptions = {
  /** False for a port something on this machine holds now. */
  isFree?: (port: number) => boolean;
  base?: number;
  ceiling?: number;
};

/**
 * The lowest block of `count` ports in `[base, ceiling]` that overlaps no
 * `taken` block, covers no avoided well-known port and no port `isFree`
 * rejects; `null` when the range is full.
 *
 * @example
 * ```ts
 * import { allocateBlock } from "./ports.ts";
 * allocateBlock([{ first: 20000, count: 10 }], 10); // { first: 20010, count: 10 }
 * ```
 */
export function allocateBlock(
  taken: readonly PortBlock[],
  count: number,
  opts: AllocateOptions = {},
): PortBlock | null {
  const base = opts.base ?? PORT_BASE;
  const ceiling = opts.ceiling ?? PORT_CEILING;
  const isFree = opts.isFree ?? (() => true);
  let first = base;
  outer: while (first + count - 1 <= ceiling) {
    const cand = { first, count };
    for (const t of taken) {
      if (overlaps(cand, t)) {
        first = t.first + t.count;
        continue outer;
      }
    }
    for (let p = first + count - 1; p >= first; p--) {
      if (AVOID.has(p) || !isFree(p)) {
        first = p + 1;
        continue outer;
      }
    }
    return cand;
  }
  return null;
}
