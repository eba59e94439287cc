/**
 * The boot block given to each agent at launch (SPEC §7.3): register, finish,
 * blocked and question recipes, each with the `git paw` helper first and plain
 * curl second. Pure.
 * @module
 */
import { BOOT_BLOCK_TEMPLATE } from "./assets/boot_block_template.ts";

/** Upper bound for the rendered boot block, in UTF-8 bytes. */
export const BOOT_BLOCK_MAX_BYTES = 4096;

/**
 * Render the boot block for one agent.
 *
 * @param opts.agentId the agent's broker id (its branch slug)
 * @param opts.brokerUrl `http://127.0.0.1:<port>`
 * @returns Markdown starting with `## BOOT INSTRUCTIONS - DO NOT REMOVE`
 */
export function renderBootBlock(
  opts: { agentId: string; brokerUrl: string },
): string {
  const url = opts.brokerUrl.replace(/\/+$/, "");
  // The id sits inside a single-quoted shell word in the curl recipes.
  const idJson = JSON.stringify(opts.agentId).replaceAll("'", "'\\''");
  const values: Record<string, string> = {
    BRANCH_ID: opts.agentId,
    GIT_PAW_BROKER_URL: url,
    ID_JSON: idJson,
  };
  return BOOT_BLOCK_TEMPLATE.replace(
    /\{\{([A-Z_]+)\}\}/g,
    (all, name: string) => values[name] ?? all,
  );
}
