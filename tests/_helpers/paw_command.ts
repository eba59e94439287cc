/**
 * git-paw run as a user or a tmux pane runs it:
 * `deno run -A --quiet --config deno.json main.ts …`.
 */
import { fileURLToPath } from "node:url";

/** Absolute path of the entry point. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
/** Absolute path of the project's deno.json. */
export const CONFIG = fileURLToPath(
  new URL("../../deno.json", import.meta.url),
);

/** A `Deno.Command` that runs git-paw with `args`. */
export function pawCommand(
  args: string[],
  opts: Omit<Deno.CommandOptions, "args"> = {},
): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    ...opts,
    args: ["run", "-A", "--quiet", "--config", CONFIG, MAIN, ...args],
  });
}
