/**
 * `deno run -R tools/unused_exports.ts`: the exports of `lib/` that no other
 * file of the checkout (lib/, tests/, bench/, tools/, main.ts) names. A
 * `dead` row is named nowhere else in its own file either (delete it); an
 * `internal` row is used only in its own file (drop its `export`, unless it
 * is a type in an exported signature). Text search by word: a name another
 * file uses for something else hides a row, never invents one. Exits 1 when
 * a `dead` export is found.
 * @module
 */
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

function walk(dir: string, out: string[]): void {
  for (const e of Deno.readDirSync(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) {
      if (e.name !== "node_modules" && !e.name.startsWith(".")) walk(p, out);
    } else if (/\.(ts|tsx|js|mjs)$/.test(e.name)) out.push(p);
  }
}

/** Source without comments (a `{@link x}` is no use). */
function code(s: string): string {
  return s.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}

const DECL =
  /^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|var|class|type|interface|enum|abstract\s+class)\s+([A-Za-z_$][\w$]*)/gm;

/** The names a module exports. */
export function exportedNames(source: string): Set<string> {
  const names = new Set<string>();
  for (const m of source.matchAll(DECL)) names.add(m[1]!);
  for (const m of source.matchAll(/^export\s*\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(",")) {
      const n = part.trim().split(/\s+as\s+/).pop()!.trim();
      if (n) names.add(n);
    }
  }
  return names;
}

function word(name: string): RegExp {
  return new RegExp(`(?<![\\w$])${name.replaceAll("$", "\\$")}(?![\\w$])`, "g");
}

if (import.meta.main) {
  const files: string[] = [];
  for (const d of ["lib", "tests", "bench", "tools"]) {
    walk(join(ROOT, d), files);
  }
  files.push(join(ROOT, "main.ts"));
  const text = new Map(files.map((f) => [f, code(Deno.readTextFileSync(f))]));
  let dead = 0;
  for (const f of files.filter((f) => relative(ROOT, f).startsWith("lib/"))) {
    const src = text.get(f)!;
    for (const n of exportedNames(src)) {
      const re = word(n);
      if (
        files.some((g) => g !== f && (re.lastIndex = 0, re.test(text.get(g)!)))
      ) {
        continue;
      }
      const own = [...src.matchAll(word(n))].length;
      if (own <= 1) dead++;
      console.log(
        `${relative(ROOT, f)}\t${n}\t${own > 1 ? "internal" : "dead"}`,
      );
    }
  }
  Deno.exit(dead > 0 ? 1 : 0);
}
