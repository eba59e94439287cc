/**
 * The rig of the `__cli-event` tests: a real linked worktree (`feat/a`) with
 * an agent marker, and the hook run as a CLI runs it.
 * @module
 */
import { join } from "node:path";
import { pawCommand } from "../_helpers/paw_command.ts";
import { addWorktree, gitDirOf, makeRepo } from "../_helpers/repo.ts";

/** A worktree with a marker naming agent `feat-a`; dispose removes it. */
export type Rig = AsyncDisposable & { worktree: string; gitDir: string };

/** Build the {@link Rig}; its marker points the hook at `brokerUrl`. */
export async function makeRig(brokerUrl: string | null): Promise<Rig> {
  const t = await makeRepo({ name: "repo", prefix: "pawce", files: {} });
  const worktree = await addWorktree(t.repo, "feat/a", join(t.root, "wt"));
  const gitDir = await gitDirOf(worktree);
  await Deno.writeTextFile(
    join(gitDir, "paw-agent-id"),
    JSON.stringify({
      version: 1,
      agent_id: "feat-a",
      expected_branch: "feat/a",
      broker_url: brokerUrl,
      strict_branch_guard: false,
      timestamp: "2026-01-01T00:00:00Z",
      repo: t.repo,
      agents_md: { mode: "none", created: false },
      hook_paths: [],
    }),
  );
  return {
    worktree,
    gitDir,
    [Symbol.asyncDispose]: () => t[Symbol.asyncDispose](),
  };
}

/** Run `git-paw __cli-event …args` in the rig's worktree with `stdin` as JSON. */
export async function hook(
  rig: Rig,
  args: string[],
  stdin: unknown,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  const child = pawCommand(["__cli-event", ...args], {
    cwd: rig.worktree,
    env: { GIT_PAW_AGENT_ID: "feat-a", ...env },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  if (stdin !== null) {
    await w.write(new TextEncoder().encode(JSON.stringify(stdin)));
  }
  await w.close();
  const o = await child.output();
  const dec = new TextDecoder();
  return {
    code: o.code,
    stdout: dec.decode(o.stdout),
    stderr: dec.decode(o.stderr),
    ms: performance.now() - t0,
  };
}
