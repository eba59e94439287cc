/**
 * Command strings from the config turned into argv with shell-word rules
 * (quotes, backslashes), and back. Nothing is ever expanded. Pure.
 * @module
 */
import { join as shJoin, split as shSplit } from "shlex";
import { AppError } from "./errors.ts";

/**
 * Split a command string into argv with shell-word rules (quotes,
 * backslashes); never expands anything.
 * @throws {AppError} on an empty command or unbalanced quotes.
 */
export function splitCommand(command: string): string[] {
  let argv: string[];
  try {
    argv = shSplit(command);
  } catch (e) {
    throw new AppError(
      `Config error: cannot parse command ${JSON.stringify(command)}: ${
        (e as Error).message
      }`,
      "config",
      { cause: e },
    );
  }
  if (argv.length === 0) {
    throw new AppError("Config error: the CLI command is empty", "config");
  }
  return argv;
}

/** Join argv back into a command string that {@link splitCommand} reverses. */
export function joinCommand(argv: readonly string[]): string {
  return shJoin([...argv]);
}
