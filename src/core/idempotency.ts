/**
 * A fresh idempotency key for one `refund()` call: a random UUID (v4). Web Crypto's
 * `randomUUID` exists in Node >= 19, Deno, Bun, browsers and edge runtimes.
 */
export function generateIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}
