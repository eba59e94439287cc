/**
 * Error types shared by every layer. Expected outcomes are values; these are
 * for failures that end a command (exit 1) or a usage problem (exit 2).
 * @module
 */

/** A failure the user can act on: its message is one line naming a remedy. */
export class AppError extends Error {
  /** Process exit code when this error ends a command. */
  readonly exitCode: number;
  /** Stable machine-readable code, e.g. `not_a_repo`. */
  readonly code: string;
  constructor(
    message: string,
    code = "error",
    opts?: ErrorOptions & { exitCode?: number },
  ) {
    super(message, opts);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts?.exitCode ?? 1;
  }
}

/** Bad arguments or input: exit code 2. */
export class UsageError extends AppError {
  constructor(message: string, opts?: ErrorOptions) {
    super(message, "usage", { ...opts, exitCode: 2 });
  }
}

/** The user cancelled a prompt: exit code 2, message `Cancelled.`. */
export class CancelledError extends AppError {
  constructor(message = "Cancelled.") {
    super(message, "cancelled", { exitCode: 2 });
  }
}

/** A subprocess (git, tmux) exited non-zero. */
export class CommandFailedError extends AppError {
  readonly argv: readonly string[];
  readonly stderr: string;
  readonly status: number;
  constructor(argv: readonly string[], status: number, stderr: string) {
    super(
      `Cannot run ${argv.join(" ")}: exit ${status}${
        stderr.trim() ? `: ${stderr.trim()}` : ""
      }`,
      "command_failed",
    );
    this.argv = argv;
    this.stderr = stderr;
    this.status = status;
  }
}

/** The message of a thrown value (an `Error`'s message, else the value as text). */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
