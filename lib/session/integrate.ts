/**
 * `git paw integrate --status [--json]`: what the integration lane (a
 * plugin of the session's broker) found last, from the status file it
 * keeps under the repo's git dir.
 * @module
 */
import { AppError } from "../core/errors.ts";
import { integrationLine, IntegrationStatus } from "../core/integration.ts";
import { repoRoot } from "../adapters/git.ts";
import { scratchRoot } from "../adapters/git_merge.ts";
import { readTextOrNull } from "../adapters/fs.ts";
import { integrationStatusPath } from "../coord/integration_plugin.ts";
import { printJson, println } from "../output.ts";

/** The lane's last status for the repo at `cwd`, or `null` (never ran). */
async function readIntegrationStatus(
  cwd?: string,
): Promise<IntegrationStatus | null> {
  const path = integrationStatusPath(await scratchRoot(await repoRoot(cwd)));
  const text = await readTextOrNull(path);
  if (text === null) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new AppError(
      `Integration error: ${path} is not JSON: ${(e as Error).message}`,
      "integration",
    );
  }
  const r = IntegrationStatus.safeParse(raw);
  if (!r.success) {
    throw new AppError(
      `Integration error: ${path} is not a status file: ${
        r.error.issues[0]?.message
      }`,
      "integration",
    );
  }
  return r.data;
}

/** Run `git paw integrate --status`. */
export async function integrateCommand(
  opts: { json?: boolean; cwd?: string },
): Promise<void> {
  const st = await readIntegrationStatus(opts.cwd);
  if (opts.json) {
    printJson(st ?? { state: "none" });
    return;
  }
  if (!st) {
    println(
      "integration: no check yet (the session's broker checks the union of the agent branches on each commit)",
    );
    return;
  }
  println(integrationLine(st));
  println(
    `  base ${
      st.base ?? "?"
    }, ${st.agents.length} branches, checked ${st.updated_at}; test ${
      st.test_command ? `\`${st.test_command.join(" ")}\`` : "none"
    }; ${st.test_runs} runs, ${st.cache_hits} cached, ${st.superseded} superseded`,
  );
  for (const f of st.findings) {
    const what = f.kind === "conflict"
      ? `conflict in ${f.files.join(", ")}`
      : f.kind === "alone"
      ? "fails alone"
      : "fail together";
    println(`  ✗ ${f.agents.join(" + ")}: ${what}`);
    for (const l of f.lines) println(`      ${l}`);
  }
}
