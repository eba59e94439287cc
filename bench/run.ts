/**
 * `deno task bench [filter]`: runs every `bench/*_bench.ts` module (each exports
 * `run(): Promise<BenchResult[]>`) and writes `bench/RESULTS.md`.
 * @module
 */
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readdirSync, writeFileSync } from "node:fs";

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

const sections: string[] = [];
for (const f of files) {
  console.error(`bench: running ${f} ...`);
  const mod = await import(join(here, f));
  const results: BenchResult[] = await mod.run();
  for (const r of results) {
    const t = table(r);
    console.log(t);
    sections.push(t);
  }
}
const header =
  `# Benchmark results\n\nMeasured ${
    new Date().toISOString()
  } on ${Deno.build.target}, ` +
  `Deno ${Deno.version.deno}, ${navigator.hardwareConcurrency} cores. Files: ${
    files.map((f) => basename(f)).join(", ")
  }.\n\n`;
const out = join(here, filter ? `RESULTS.${filter}.md` : "RESULTS.md");
writeFileSync(out, header + sections.join("\n"));
console.error(`bench: wrote ${out}`);
