/**
 * `deno task lint:core`: the layer check of docs/ARCHITECTURE.md. Fails on
 * - I/O, clocks or timers in `lib/core` (it is pure),
 * - `lib/core` importing anything outside `lib/core` but packages,
 * - a subprocess started outside `lib/adapters`,
 * - an import of another folder's `_private` module,
 * - an area importing one above it (the broker importing the session,
 *   coordination or dashboard areas; the MCP server importing the session
 *   or dashboard areas; anything importing the entry layer).
 * @module
 */
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { checkSource as purityProblems } from "./check_core_purity.ts";

/** The layer of a module, by its path relative to the checkout. */
export type Layer =
  | "core"
  | "leaf"
  | "adapters"
  | "broker"
  | "coord"
  | "dashboard"
  | "session"
  | "mcp"
  | "entry"
  | "other";

/** Which layer a checkout-relative path belongs to. */
export function layerOf(path: string): Layer {
  if (path === "main.ts" || path.startsWith("lib/cli/")) return "entry";
  const m = /^lib\/([^/]+)\//.exec(path);
  if (!m) return /^lib\/[^/]+\.ts$/.test(path) ? "leaf" : "other";
  switch (m[1]) {
    case "core":
    case "adapters":
    case "broker":
    case "coord":
    case "dashboard":
    case "session":
    case "mcp":
      return m[1];
    default:
      return "other";
  }
}

/** What each layer may import (besides packages and itself). */
export const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  core: [],
  leaf: ["core", "leaf"],
  adapters: ["core", "leaf"],
  broker: ["core", "leaf", "adapters"],
  coord: ["core", "leaf", "adapters", "broker"],
  dashboard: ["core", "leaf", "adapters", "broker"],
  session: ["core", "leaf", "adapters", "broker", "coord", "dashboard"],
  mcp: ["core", "leaf", "adapters", "broker", "coord"],
  entry: [
    "core",
    "leaf",
    "adapters",
    "broker",
    "coord",
    "dashboard",
    "session",
    "mcp",
    "entry",
  ],
  other: [],
};

const IMPORT_RE =
  /(?:^|[\s;])(?:import|export)\b[^"';]*?\bfrom\s*["']([^"']+)["']|(?:^|[^.\w])import\s*\(\s*["']([^"']+)["']\s*\)|^\s*import\s+["']([^"']+)["']/gm;
const SUBPROCESS_RE =
  /\bnew\s+Deno\.Command\b|\bDeno\.run\(|["']node:child_process["']/;

/** The relative specifiers a module imports, with their line numbers. */
export function importsOf(
  source: string,
): Array<{ spec: string; line: number }> {
  const out: Array<{ spec: string; line: number }> = [];
  const code = source.replace(
    /\/\*[\s\S]*?\*\//g,
    (c) => c.replace(/[^\n]/g, " "),
  );
  for (const m of code.matchAll(IMPORT_RE)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec) continue;
    const line = code.slice(0, m.index).split("\n").length +
      (m[0].startsWith("\n") ? 1 : 0);
    out.push({ spec, line });
  }
  return out;
}

/**
 * Problems in one module, as `file:line: what`. `file` is relative to the
 * checkout, with forward slashes.
 */
export function checkModule(file: string, source: string): string[] {
  const problems: string[] = [];
  const from = layerOf(file);
  if (from === "core") problems.push(...purityProblems(file, source));
  if (from !== "adapters" && from !== "other") {
    source.split("\n").forEach((l, i) => {
      const code = l.replace(/\/\/.*$/, "");
      if (/^\s*\*/.test(code)) return;
      if (SUBPROCESS_RE.test(code)) {
        problems.push(
          `${file}:${
            i + 1
          }: subprocess outside lib/adapters (use lib/adapters/runner.ts)`,
        );
      }
    });
  }
  for (const { spec, line } of importsOf(source)) {
    if (!spec.startsWith(".")) {
      if (
        from === "core" && /^node:(fs|child_process|net|http|os)/.test(spec)
      ) {
        problems.push(`${file}:${line}: lib/core imports ${spec}`);
      }
      continue;
    }
    const target = normalize(join(dirname(file), spec)).replaceAll("\\", "/");
    const to = layerOf(target);
    const base = target.split("/").pop() ?? "";
    if (base.startsWith("_") && dirname(target) !== dirname(file)) {
      problems.push(
        `${file}:${line}: imports ${target}, a private module of another folder`,
      );
    }
    if (from === "other" || to === from) continue;
    if (to === "entry") {
      problems.push(`${file}:${line}: imports the entry layer (${target})`);
    } else if (!MAY_IMPORT[from].includes(to)) {
      problems.push(
        `${file}:${line}: ${from} may not import ${to} (${target})`,
      );
    }
  }
  return problems;
}

function* walk(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (e.isFile && e.name.endsWith(".ts")) yield p;
  }
}

if (import.meta.main) {
  const root = fileURLToPath(new URL("../", import.meta.url));
  const files = [join(root, "main.ts"), ...walk(join(root, "lib"))];
  const problems: string[] = [];
  for (const f of files) {
    const rel = relative(root, f).replaceAll("\\", "/");
    problems.push(...checkModule(rel, Deno.readTextFileSync(f)));
  }
  for (const p of problems) console.error(p);
  console.error(
    problems.length
      ? `${problems.length} layer problem(s) (docs/ARCHITECTURE.md)`
      : `layers ok: ${files.length} modules`,
  );
  Deno.exit(problems.length ? 1 : 0);
}
