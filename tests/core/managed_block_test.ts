/** The managed block in a text file: find, upsert, remove. */
import assert from "node:assert/strict";
import {
  blockBody,
  findBlock,
  hasBlock,
  removeBlock,
  upsertBlock,
} from "../../lib/core/managed_block.ts";

const M = { begin: "# >>> ours >>>", end: "# <<< ours <<<" };

Deno.test("upsertBlock() makes an empty file the block alone", () => {
  assert.equal(upsertBlock("", "a", M), "# >>> ours >>>\na\n# <<< ours <<<\n");
  assert.equal(upsertBlock("\n\n", "a", M), upsertBlock("", "a", M));
});

Deno.test("upsertBlock() appends after a blank line, or right after with gap: false", () => {
  assert.equal(
    upsertBlock("user\n", "a", M),
    "user\n\n# >>> ours >>>\na\n# <<< ours <<<\n",
  );
  assert.equal(
    upsertBlock("user", "a", M, { gap: false }),
    "user\n# >>> ours >>>\na\n# <<< ours <<<\n",
  );
});

Deno.test("upsertBlock() replaces the block in place and keeps the lines around it", () => {
  const text = "top\n# >>> ours >>>\nold\n# <<< ours <<<\nbottom\n";
  assert.equal(
    upsertBlock(text, "new 1\nnew 2\n", M),
    "top\n# >>> ours >>>\nnew 1\nnew 2\n# <<< ours <<<\nbottom\n",
  );
});

Deno.test("upsertBlock() is idempotent", () => {
  for (const start of ["", "user\n", "a\n\nb", "x\n# >>> ours >>>\nq\n"]) {
    const once = upsertBlock(start, "body", M);
    assert.equal(upsertBlock(once, "body", M), once);
  }
});

Deno.test("upsertBlock() treats a block without an end marker as running to the end", () => {
  const text = "top\n# >>> ours >>>\nhalf\nwritten\n";
  assert.deepEqual(findBlock(text.split("\n"), M), {
    start: 1,
    end: 3,
    closed: false,
  });
  assert.equal(
    upsertBlock(text, "b", M),
    "top\n# >>> ours >>>\nb\n# <<< ours <<<\n",
  );
});

Deno.test("removeBlock() drops the block and one blank line next to it", () => {
  assert.equal(
    removeBlock("user\n\n# >>> ours >>>\na\n# <<< ours <<<\n", M),
    "user\n",
  );
  assert.equal(
    removeBlock("# >>> ours >>>\na\n# <<< ours <<<\n\nuser\n", M),
    "user\n",
  );
  assert.equal(
    removeBlock("a\n# >>> ours >>>\nx\n# <<< ours <<<\nb\n", M),
    "a\nb\n",
  );
  assert.equal(removeBlock("# >>> ours >>>\nx\n# <<< ours <<<\n", M), "");
});

Deno.test("removeBlock() leaves text without a block unchanged", () => {
  const text = "user\n# <<< ours <<<\n";
  assert.equal(removeBlock(text, M), text);
  assert.equal(hasBlock(text, M), false);
});

Deno.test("upsertBlock() then removeBlock() gives the user's text back", () => {
  for (const user of ["user\n", "a\nb\n", ""]) {
    assert.equal(removeBlock(upsertBlock(user, "x\ny", M), M), user);
  }
});

Deno.test("blockBody() and hasBlock() follow custom marker matchers", () => {
  const loose = {
    ...M,
    isBegin: (l: string) => l.trimStart().startsWith("# >>> ours"),
    isEnd: (l: string) => l.includes("<<< ours"),
  };
  const text = "  # >>> ours (old wording)\nbody\n# <<< ours <<< trailing\n";
  assert.equal(hasBlock(text, loose), true);
  assert.equal(hasBlock(text, M), false);
  assert.equal(blockBody(text, loose), "body");
  assert.equal(blockBody("none\n", loose), null);
});
