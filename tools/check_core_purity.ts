/**
 * `deno task lint:core`: fails when a module under lib/core/ does I/O, reads a
 * clock or starts timers. lib/core is pure by rule (STYLE §2.4).
 * @module
 */
import { join } from "node:path";

const FORBIDDEN: Array<[RegExp, string]> = [
  [/\bDeno\./, "Deno.* API"],
  [/\bfetch\(/, "fetch()"],
  [/\bDate\.now\(/, "Date.now()"],
  [/\bnew Date\(\s*\)/, "new Date() (reads the clock)"],
  [/\bperformance\.now\(/, "performance.now()"],
  [/\bset(Timeout|Interval)\(/, "timer"],
  [/from\s+["']node:(fs|child_process|net|http|os)["']/, "node I/O module"],
];

/** Problems found in the source of one file, as `file:line: what`. */
export function checkSource(file: string, source: string): string[] {
  const out: string[] = [];
  source.split("\n").forEach((line, i) => {
    const code = line.replace(/\/\/.*$/, "");
    if (/^\s*\*/.test(code)) return; // JSDoc lines
    for (const [re, what] of FORBIDDEN) {
      if (re.test(code)) out.push(`${file}:${i + 1}: ${what}`);
    }
  });
  return out;
}

if (import.meta.main) {
  const dir = new URL("../lib/core/", import.meta.url).pathname;
  const problems: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (!e.isFile || !e.name.endsWith(".ts")) continue;
    const p = join(dir, e.name);
    problems.push(
      ...checkSource(`lib/core/${e.name}`, Deno.readTextFileSync(p)),
    );
  }
  for (const p of problems) console.error(p);
  console.error(
    problems.length
      ? `${problems.length} purity problem(s)`
      : "lib/core is pure",
  );
  Deno.exit(problems.length ? 1 : 0);
}
