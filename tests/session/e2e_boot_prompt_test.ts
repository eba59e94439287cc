/**
 * A CLI without a first-prompt argument gets its boot block typed into its
 * pane (docs/REFERENCE.md, "AGENTS.md, skills, boot block and hooks"): every byte arrives as rendered, newlines as
 * newlines, and nothing of the delivery (tmux buffers, prompt files) is left
 * behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { renderBootBlock } from "../../lib/coord/boot_block.ts";
import {
  exists,
  makeWorld,
  statusJson,
  waitFor,
  type World,
} from "./e2e_helpers.ts";

/** The agent's key file, which the boot block's curl recipes send. */
async function keyFileOf(w: World, worktree: string): Promise<string> {
  const r = await w.git(["rev-parse", "--absolute-git-dir"], worktree);
  return join(r.stdout.trim(), "paw-agent-key");
}

Deno.test("git paw start types the boot block into a CLI that takes no prompt argument, byte for byte", async () => {
  await using w = await makeWorld({ project: "typed" });
  // The "CLI" copies what reaches its terminal, line by line, into a file.
  await w.writeConfig(
    `[clis.reader]\ncommand = "sh -c 'stty -echo; cat > received.txt'"\n`,
  );
  const r = await w.paw([
    "start",
    "--cli",
    "reader",
    "--branches",
    "feat/a,feat/b",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = await statusJson(w);
  for (const branch of ["feat/a", "feat/b"]) {
    const wt = s.worktrees!.find((x) => x.branch === branch)!;
    const expected = renderBootBlock({
      agentId: branch.replace("/", "-"),
      brokerUrl: s.broker_url!,
      keyFile: await keyFileOf(w, wt.worktree_path),
    });
    const file = join(wt.worktree_path, "received.txt");
    const got = await waitFor(`${branch}'s boot block`, async () => {
      if (!exists(file)) return null;
      const text = await Deno.readTextFile(file);
      return text.length >= expected.length ? text : null;
    });
    assert.equal(got, expected);
  }
  const buffers = await w.tmux(["list-buffers", "-F", "#{buffer_name}"]);
  assert.equal(buffers.stdout.trim(), "", "paste buffers left in tmux");
  // Each pane removed its prompt file once it had typed it.
  const boot = join(w.root, "data", "git-paw", "sessions", "paw-typed", "boot");
  await waitFor(
    "prompt files removed",
    () => [...Deno.readDirSync(boot)].length === 0,
  );
});

Deno.test("the typed boot block reaches its pane when the data dir has tmux format characters in its path", async () => {
  await using w = await makeWorld({ project: "typed" });
  // Unescaped, tmux would read "#{pane_id}" as the pane's id and find no file.
  w.env.XDG_DATA_HOME = join(w.root, "data#{pane_id}");
  await w.writeConfig(
    `[clis.reader]\ncommand = "sh -c 'stty -echo; cat > received.txt'"\n`,
  );
  const r = await w.paw(["start", "--cli", "reader", "--branches", "feat/a"]);
  assert.equal(r.code, 0, r.stderr);
  const s = await statusJson(w);
  const expected = renderBootBlock({
    agentId: "feat-a",
    brokerUrl: s.broker_url!,
    keyFile: await keyFileOf(w, s.worktrees![0]!.worktree_path),
  });
  const file = join(s.worktrees![0]!.worktree_path, "received.txt");
  const got = await waitFor("the boot block", async () => {
    if (!exists(file)) return null;
    const text = await Deno.readTextFile(file);
    return text.length >= expected.length ? text : null;
  });
  assert.equal(got, expected);
});
