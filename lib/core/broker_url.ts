/**
 * The broker's URL from its bind address and port. No dependencies, so
 * pane 0 can use it before anything heavy is loaded. Pure.
 * @module
 */

/** `http://<bind>:<port>` (IPv6 binds bracketed). */
export function brokerUrlOf(bind: string, port: number): string {
  return `http://${bind.includes(":") ? `[${bind}]` : bind}:${port}`;
}
