/**
 * How git-paw's approval decision reaches each CLI through its own hook
 * (docs/clis/*.md), and the hook entries a profile writes for it. Pure; no
 * imports (the hook command loads this on every tool call).
 *
 * | CLI    | hook event          | allow                          | deny (reason to the model)     |
 * | ------ | ------------------- | ------------------------------ | ------------------------------ |
 * | claude | `PreToolUse`        | `permissionDecision: "allow"`  | `permissionDecision: "deny"`   |
 * | codex  | `PermissionRequest` | `decision.behavior: "allow"`   | `behavior: "deny"` + `message` |
 * | codex  | `PreToolUse`        | — (rejected by 0.169)          | `permissionDecision: "deny"`   |
 * | gemini | `BeforeTool`        | — (no allow that skips its own policy) | `decision: "deny"` + `reason` |
 *
 * Where a CLI cannot express "allow", an approval prints nothing and the
 * CLI's own rules (and prompt) follow.
 * @module
 */

/** `[approvals] mode`: who answers a CLI's permission requests. */
export type ApprovalsMode = "pane" | "queue";

/**
 * The mode a session runs in: the config's `[approvals] mode` when set,
 * else `queue` for `--unattended` and supervisor sessions (nobody watches
 * the panes), `pane` for an interactive start.
 */
export function resolveApprovalsMode(
  configured: ApprovalsMode | null,
  start: { unattended?: boolean; supervisor?: boolean },
): ApprovalsMode {
  if (configured) return configured;
  return start.unattended || start.supervisor ? "queue" : "pane";
}

/** The hook events at which git-paw decides, per CLI. */
const DECISION_EVENTS: Readonly<Record<string, readonly string[]>> = {
  claude: ["PreToolUse"],
  codex: ["PermissionRequest", "PreToolUse"],
  gemini: ["BeforeTool"],
};

/** True when `event` of `cli` is one where git-paw can decide. */
export function isDecisionEvent(cli: string, event: string): boolean {
  return DECISION_EVENTS[cli]?.includes(event) ?? false;
}

/**
 * What the hook prints for a decision, or null when the CLI cannot say it
 * (then the hook prints nothing: no decision).
 */
export function hookDecisionOutput(
  cli: string,
  event: string,
  decision: "allow" | "deny",
  reason: string | null,
): string | null {
  const why = reason ?? (decision === "allow" ? "approved" : "denied");
  if (event === "PreToolUse" && (cli === "claude" || cli === "codex")) {
    if (cli === "codex" && decision === "allow") return null;
    return JSON.stringify({
      hookSpecificOutput: {
        hookEventName: "PreToolUse",
        permissionDecision: decision,
        permissionDecisionReason: why,
      },
    });
  }
  if (event === "PermissionRequest" && cli === "codex") {
    return JSON.stringify({
      hookSpecificOutput: {
        hookEventName: "PermissionRequest",
        decision: decision === "allow"
          ? { behavior: "allow" }
          : { behavior: "deny", message: why },
      },
    });
  }
  if (event === "BeforeTool" && cli === "gemini") {
    return decision === "deny"
      ? JSON.stringify({ decision: "deny", reason: why })
      : null;
  }
  return null;
}

/** Seconds a queue-mode hook may take beyond `timeout_seconds`. */
const HOOK_GRACE_SECONDS = 30;

/**
 * The argv a decision event's hook adds in queue mode
 * (`__cli-event … --approvals queue`); none in pane mode.
 */
export function approvalHookArgs(
  mode: ApprovalsMode,
  cli: string,
  event: string,
): string[] {
  return mode === "queue" && isDecisionEvent(cli, event)
    ? ["--approvals", "queue"]
    : [];
}

/**
 * The `timeout` a queue-mode decision hook needs in the CLI's settings
 * (Claude and Codex: seconds; Gemini: milliseconds), or null to keep the
 * profile's own (pane mode, other events): the hook waits up to
 * `timeout_seconds` for a person.
 */
export function approvalHookTimeout(
  opts: { mode: ApprovalsMode; timeoutSeconds: number },
  cli: string,
  event: string,
): number | null {
  if (opts.mode !== "queue" || !isDecisionEvent(cli, event)) return null;
  const s = opts.timeoutSeconds + HOOK_GRACE_SECONDS;
  return cli === "gemini" ? s * 1000 : s;
}
