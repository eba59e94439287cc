import assert from "node:assert/strict";
import {
  displayWidth,
  fit,
  fitRight,
  oneLine,
  sanitize,
  sanitizeLines,
  truncate,
} from "../../lib/core/dashboard_text.ts";
import { escapeTmuxFormat } from "../../lib/adapters/tmux.ts";

// deno-lint-ignore no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

Deno.test("sanitize() turns ESC, CSI, OSC and BEL into visible pictures", () => {
  const out = sanitize("a\x1b[2Jb\x1b]0;title\x07c\x1bPdcs\x1b\\d");
  assert.equal(out, "a␛[2Jb␛]0;title␇c␛Pdcs␛\\d");
  assert.doesNotMatch(out, CONTROL);
});

Deno.test("sanitize() replaces C1 controls (8-bit CSI/OSC) and DEL", () => {
  const out = sanitize("x\u009b31my\u009d0;t\u009cz\u007f");
  assert.doesNotMatch(out, CONTROL);
  assert.equal(out, "x\ufffd31my\ufffd0;t\ufffdz␡");
});

Deno.test("sanitize() neutralises bidi overrides and line separators", () => {
  const out = sanitize("abc\u202edcba\u2066x\u2069\u200f\u2028end");
  assert.doesNotMatch(out, /[\u202a-\u202e\u2066-\u2069\u200e\u200f\u2028]/);
  assert.ok(out.startsWith("abc\ufffddcba"));
});

Deno.test("sanitize() flattens tabs/newlines to spaces and fixes lone surrogates", () => {
  assert.equal(sanitize("a\tb\nc\r\nd"), "a b c  d");
  assert.equal(sanitize("x\ud800y"), "x\ufffdy");
});

Deno.test("sanitize() drops ZWJ, variation selectors and skin tones so widths agree", () => {
  assert.equal(sanitize("👨\u200d👩"), "👨👩");
  assert.equal(sanitize("❤\ufe0f"), "❤");
  assert.equal(sanitize("👍\u{1f3fd}"), "👍");
  assert.equal(displayWidth(sanitize("👨\u200d👩\u200d👧")), 6);
});

Deno.test("sanitize() keeps ordinary unicode: accents, CJK, Arabic, emoji", () => {
  const s = "café 漢字 مرحبا 🔥";
  assert.equal(sanitize(s), s);
});

Deno.test("sanitizeLines() keeps line structure but cleans each line", () => {
  assert.deepEqual(sanitizeLines("a\x1b[1m\nb\r\nc"), ["a␛[1m", "b", "c"]);
});

Deno.test("displayWidth() counts wide CJK and emoji as two columns", () => {
  assert.equal(displayWidth("abc"), 3);
  assert.equal(displayWidth("漢字"), 4);
  assert.equal(displayWidth("🔵 ok"), 5);
  assert.equal(displayWidth("e\u0301"), 1);
  assert.equal(displayWidth(""), 0);
});

Deno.test("truncate() ends with … and never exceeds the width", () => {
  assert.equal(truncate("hello world", 5), "hell…");
  assert.equal(truncate("hello", 5), "hello");
  assert.equal(truncate("hello", 1), "…");
  assert.equal(truncate("hello", 0), "");
  for (let w = 1; w < 12; w++) {
    for (
      const s of [
        "漢字漢字漢字",
        "a🔥b🔥c🔥d",
        "مرحبا بالعالم",
        "e\u0301e\u0301e\u0301",
      ]
    ) {
      assert.ok(displayWidth(truncate(s, w)) <= w, `${s} @ ${w}`);
    }
  }
  // A wide char that does not fit is not split.
  assert.equal(truncate("漢字漢", 4), "漢…");
});

Deno.test("fit() and fitRight() pad to exactly the width", () => {
  assert.equal(fit("ab", 4), "ab  ");
  assert.equal(fitRight("ab", 4), "  ab");
  assert.equal(displayWidth(fit("漢字漢字", 5)), 5);
  assert.equal(displayWidth(fit("🔥", 3)), 3);
});

Deno.test("oneLine() bounds huge text and squeezes whitespace", () => {
  const huge = "x ".repeat(1_000_000);
  const out = oneLine(huge, 100);
  assert.ok(out.length <= 100);
  assert.ok(out.endsWith("…"));
  assert.equal(oneLine("  a \n\n b\t c  "), "a b c");
});

Deno.test("escapeTmuxFormat() doubles # and % so #(cmd) and %Y stay literal", () => {
  assert.equal(
    escapeTmuxFormat("feat/#(rm -rf ~) #{pane_id} 100% %Y", {
      strftime: true,
    }),
    "feat/##(rm -rf ~) ##{pane_id} 100%% %%Y",
  );
});

Deno.test("escapeTmuxFormat() text comes back verbatim from a real tmux display-message", async () => {
  const dir = await Deno.makeTempDir({ prefix: "paw-tmuxfmt-" });
  const env = { TMUX_TMPDIR: dir, LANG: "C.UTF-8" };
  const tmux = async (...args: string[]) => {
    const out = await new Deno.Command("tmux", {
      args,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      ok: out.success,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  try {
    const started = await tmux(
      "new-session",
      "-d",
      "-s",
      "fmt",
      "-x",
      "80",
      "-y",
      "20",
      "sleep 600",
    );
    assert.ok(started.ok, started.stderr);
    const text = "a %Y b %% c #{session_name} d #(echo pwned) e ## 100%";
    // Unescaped, tmux really expands both kinds (guards the premise).
    const raw = await tmux("display-message", "-p", "-t", "fmt", "x %Y #S");
    assert.ok(raw.ok, raw.stderr);
    assert.equal(raw.stdout, `x ${new Date().getFullYear()} fmt\n`);
    const shown = await tmux(
      "display-message",
      "-p",
      "-t",
      "fmt",
      escapeTmuxFormat(text, { strftime: true }),
    );
    assert.ok(shown.ok, shown.stderr);
    assert.equal(shown.stdout, text + "\n");
  } finally {
    await tmux("kill-server");
    await Deno.remove(dir, { recursive: true });
  }
});
