import assert from "node:assert/strict";

const COMMON = new URL("../../lib/session/common.ts", import.meta.url).href;

/** attachWindowSize() in a fresh process on a terminal of cols×rows (`script` gives it a pty). */
async function sizeOn(
  term: { cols: number; rows: number } | null,
): Promise<unknown> {
  const code =
    `const { attachWindowSize } = await import(${JSON.stringify(COMMON)});` +
    `console.log("SIZE=" + JSON.stringify(await attachWindowSize()));`;
  const deno = [Deno.execPath(), "eval", "--quiet", code];
  const quoted = deno.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
  const env: Record<string, string> = {
    ...Deno.env.toObject(),
    NO_COLOR: "1",
  };
  delete env.TMUX;
  const cmd = term
    ? new Deno.Command("script", {
      args: [
        "-qec",
        `stty cols ${term.cols} rows ${term.rows}; ${quoted}`,
        "/dev/null",
      ],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    })
    : new Deno.Command(deno[0]!, {
      args: deno.slice(1),
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    });
  const out = await cmd.output();
  const text = new TextDecoder().decode(out.stdout);
  const m = /SIZE=(.*)/.exec(text);
  assert.ok(m, `no answer: ${text} ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(m[1]!.trim());
}

Deno.test("the session window is made at the attaching terminal's size, less tmux's status line", async () => {
  assert.deepEqual(await sizeOn({ cols: 120, rows: 40 }), {
    width: 120,
    height: 39,
  });
  assert.deepEqual(await sizeOn({ cols: 100, rows: 30 }), {
    width: 100,
    height: 29,
  });
});

Deno.test("no attaching terminal, or one too small for the layout: the default size", async () => {
  assert.equal(await sizeOn(null), null);
  assert.equal(await sizeOn({ cols: 30, rows: 40 }), null);
  assert.equal(await sizeOn({ cols: 120, rows: 10 }), null);
});
