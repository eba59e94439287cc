import assert from "node:assert/strict";
import {
  BLOCK_END,
  BLOCK_START,
  blockBody,
  hasBlock,
  injectBlock,
  stripBlock,
} from "../../lib/core/agents_md.ts";

Deno.test("injectBlock() writes only the block when the file is empty", () => {
  assert.equal(injectBlock("", "body"), `${BLOCK_START}\nbody\n${BLOCK_END}\n`);
  assert.equal(
    injectBlock("  \n\n", "body"),
    `${BLOCK_START}\nbody\n${BLOCK_END}\n`,
  );
});

Deno.test("injectBlock() appends after one blank line and keeps user content", () => {
  const user = "# Project rules\n\nUse tabs.\n\n\n";
  const out = injectBlock(user, "body");
  assert.equal(
    out,
    `# Project rules\n\nUse tabs.\n\n${BLOCK_START}\nbody\n${BLOCK_END}\n`,
  );
});

Deno.test("injectBlock() replaces an existing block in place", () => {
  const before =
    `# Top\n\n${BLOCK_START}\nold\nstuff\n${BLOCK_END}\n\n# Bottom\n`;
  const out = injectBlock(before, "new");
  assert.equal(out, `# Top\n\n${BLOCK_START}\nnew\n${BLOCK_END}\n\n# Bottom\n`);
  assert.equal(injectBlock(out, "new"), out, "idempotent");
});

Deno.test("injectBlock() treats a block without end marker as running to EOF", () => {
  const before = `# Top\n\n<!-- git-paw:start old wording -->\nold\nmore old\n`;
  const out = injectBlock(before, "new");
  assert.equal(out, `# Top\n\n${BLOCK_START}\nnew\n${BLOCK_END}\n`);
});

Deno.test("stripBlock() removes the block and the blank line before it", () => {
  const user = "# Rules\n\nUse tabs.\n";
  assert.equal(stripBlock(injectBlock(user, "x")), user);
});

Deno.test("stripBlock() removes the blank line after a leading block", () => {
  const content = `${BLOCK_START}\nx\n${BLOCK_END}\n\n# Rules\n`;
  assert.equal(stripBlock(content), "# Rules\n");
});

Deno.test("stripBlock() keeps content on both sides of a middle block", () => {
  const content = `A\n\n${BLOCK_START}\nx\n${BLOCK_END}\n\nB\n`;
  assert.equal(stripBlock(content), "A\n\nB\n");
});

Deno.test("stripBlock() yields empty text when only the block was there", () => {
  assert.equal(stripBlock(injectBlock("", "x")), "");
});

Deno.test("stripBlock() strips to EOF when the end marker is missing", () => {
  assert.equal(stripBlock(`A\n\n${BLOCK_START}\nx\ny\n`), "A\n");
});

Deno.test("stripBlock() returns content without a block unchanged", () => {
  const content = "# Mine\n\n<!-- some other comment -->\n";
  assert.equal(stripBlock(content), content);
  assert.equal(hasBlock(content), false);
});

Deno.test("blockBody() returns the text between the markers", () => {
  assert.equal(
    blockBody(injectBlock("# a\n", "line 1\nline 2")),
    "line 1\nline 2",
  );
  assert.equal(blockBody("# none\n"), null);
});
