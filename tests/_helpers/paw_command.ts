/**
 * git-paw run as a user or a tmux pane runs it:
 * `deno run -A --quiet --config deno.json main.ts …`.
 */
import { fileURLToPath } from "node:url";
import { noMachineClis } from "./env.ts";

/** Absolute path of the entry point. */
export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
/** Absolute path of the project's deno.json. */
export const CONFIG = fileURLToPath(
  new URL("../../deno.json", import.meta.url),
);

/** The arguments after the deno binary that run git-paw with `args`. */
export function pawArgs(args: string[]): string[] {
  return ["run", "-A", "--quiet", "--config", CONFIG, MAIN, ...args];
}

/** The whole argv, deno binary first. */
export function pawArgv(args: string[]): string[] {
  return [Deno.execPath(), ...pawArgs(args)];
}

/** `argv` as one line for `sh -c` (or a shell in a tmux pane), each word single-quoted. */
export function shellLine(argv: string[]): string {
  return argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
}

/**
 * A `Deno.Command` that runs git-paw with `args`. Unless `opts.clearEnv`,
 * the child sees no AI CLI of the machine ({@link noMachineClis}) under
 * `opts.env`.
 */
export function pawCommand(
  args: string[],
  opts: Omit<Deno.CommandOptions, "args"> = {},
): Deno.Command {
  const env = opts.clearEnv ? opts.env : { ...noMachineClis(), ...opts.env };
  return new Deno.Command(Deno.execPath(), {
    ...opts,
    ...(env ? { env } : {}),
    args: pawArgs(args),
  });
}
