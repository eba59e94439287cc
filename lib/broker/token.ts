/**
 * Bearer tokens of brokers that bind beyond loopback (light module: `start`
 * needs these without loading the HTTP server).
 * @module
 */

/** True for addresses only this machine can reach. */
export function isLoopback(bind: string): boolean {
  const b = bind.replace(/^\[|\]$/g, "").toLowerCase();
  return b === "localhost" || b === "::1" || /^127\.\d+\.\d+\.\d+$/.test(b);
}

/** A fresh random token (24 bytes, URL-safe base64 without padding). */
export function generateToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * A fresh agent key: 32 random bytes (256 bits), URL-safe base64 without
 * padding (43 characters; `AGENT_KEY_PATTERN` in lib/core/agent_key.ts).
 */
export function generateAgentKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-")
    .replace(/\//g, "_").replace(/=+$/, "");
}
