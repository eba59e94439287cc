/**
 * `deno task bench [filter]`: runs every `bench/*_bench.ts` module (each exports
 * `run(): Promise<BenchResult[]>`) and writes `bench/RESULTS.md`.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

/** One measured table. */
export type BenchResult = {
  title: string;
  /** Column name → value; every row has the same keys. */
  rows: Array<Record<string, string | number>>;
  /** Free text under the table (what was measured, goal, verdict). */
  notes?: string[];
};

const here = dirname(fileURLToPath(import.meta.url));
const filter = Deno.args[0];
const files = readdirSync(here).filter((f) => f.endsWith("_bench.ts")).sort()
  .filter((f) => !filter || f.includes(filter));

function table(r: BenchResult): string {
  const cols = Object.keys(r.rows[0] ?? {});
  const lines = [`## ${r.title}`, ""];
  if (cols.length) {
    lines.push(
      `| ${cols.join(" | ")} |`,
      `| ${cols.map(() => "---").join(" | ")} |`,
    );
    for (const row of r.rows) {
      lines.push(`| ${cols.map((c) => String(row[c])).join(" | ")} |`);
    }
  }
  for (const n of r.notes ?? []) lines.push("", n);
  return lines.join("\n") + "\n";
}

function header(names: string[]): string {
  return `Measured ${new Date().toISOString()} on ${Deno.build.target}, ` +
    `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores. ` +
    `Files: ${names.join(", ")}.\n\n`;
}

// Each area's tables go to RESULTS.<area>.md; RESULTS.md is then rebuilt
// from the newest file of every area, so `deno task bench broker` refreshes
// one area without discarding the others.
for (const f of files) {
  console.error(`bench: running ${f} ...`);
  const mod = await import(join(here, f));
  const results: BenchResult[] = await mod.run();
  const area = basename(f).replace(/_bench\.ts$/, "");
  const tables = results.map(table);
  for (const t of tables) console.log(t);
  writeFileSync(
    join(here, `RESULTS.${area}.md`),
    `# Benchmark results: ${area}\n\n` + header([basename(f)]) +
      tables.join("\n"),
  );
}

const parts = readdirSync(here).filter((f) => /^RESULTS\.[a-z_]+\.md$/.test(f))
  .sort();
const body = parts.map((f) =>
  readFileSync(join(here, f), "utf8").replace(/^# .*\n/, `# ${f}\n`)
    .replace(/^# /gm, "## ").replace(/^## (?!RESULTS)/gm, "### ")
);
writeFileSync(
  join(here, "RESULTS.md"),
  "# Benchmark results\n\nOne section per area, each from its newest " +
    "`deno task bench <area>` run (the file named in its heading).\n\n" +
    body.join("\n"),
);
console.error(`bench: wrote ${join(here, "RESULTS.md")}`);
