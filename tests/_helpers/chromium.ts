/**
 * Headless Chromium for the web tests (playwright-core, the machine's
 * `/usr/bin/chromium`): the flags every browser test uses, and a launcher
 * for a persistent profile in a temp dir (closed and removed with `await
 * using`).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { BrowserContext } from "playwright-core";

/** Where the browser is. */
export const CHROMIUM = "/usr/bin/chromium";
/** False when no Chromium is installed (the browser tests are skipped). */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/** Flags: no sandbox (containers), no GPU, no background traffic. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--headless",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** A phone's screen (CSS pixels) with touch, as a 390×844 handset. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
};

/** Options of {@link launchChromium}. */
export type LaunchOptions = {
  viewport?: { width: number; height: number };
  deviceScaleFactor?: number;
  isMobile?: boolean;
  hasTouch?: boolean;
  /** More flags after {@link CHROMIUM_ARGS}. */
  args?: string[];
};

/** A browser context that closes and removes its profile on dispose. */
export type TestBrowser = BrowserContext & {
  [Symbol.asyncDispose](): Promise<void>;
};

/** Launch headless Chromium with a fresh profile. */
export async function launchChromium(
  opts: LaunchOptions = {},
): Promise<TestBrowser> {
  const { chromium } = await import("playwright-core");
  const dir = await Deno.makeTempDir({ prefix: "paw-chromium-" });
  const { args = [], ...rest } = opts;
  const ctx = await chromium.launchPersistentContext(join(dir, "profile"), {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...args],
    ...rest,
  });
  return Object.assign(ctx, {
    async [Symbol.asyncDispose]() {
      await ctx.close();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  });
}
