/**
 * The boot block given to each agent at launch (SPEC §7.3; issue
 * "Coordination" owns this file). Pure.
 * @module
 */

/** Render the boot block for one agent. Placeholder text until that issue lands. */
export function renderBootBlock(
  opts: { agentId: string; brokerUrl: string },
): string {
  return `## BOOT INSTRUCTIONS - DO NOT REMOVE\nYou are agent ${opts.agentId}; broker ${opts.brokerUrl}.`;
}
