/**
 * When to retry a refund, and how long to wait. The rule: retry only when a retry cannot
 * refund twice. ky runs the retries (`retry.shouldRetry` asks `isSafeToRetry`); these are the
 * rules it is given.
 *
 * - The request never reached the vendor (connection refused, DNS failure, a port fetch
 *   refuses): always safe.
 * - 429: the vendor refused it before doing anything: always safe.
 * - Timeout, reset connection, 408 or 5xx: the refund may or may not have been applied.
 *   Safe only where the vendor deduplicates this request (`dedupes`): Affixo by `external_id`,
 *   Affonso by `external_event_id`, FirstPromoter by `event_id`, RefCampaign full refunds by
 *   conversion state. A RefCampaign partial refund has no key: never retried.
 * - Anything else (4xx, a redirect, a 2xx we could not read): not retried.
 */

/** Waits longer than this are not slept through: the call fails fast with the wait in `retryAfter`. */
export const MAX_RETRY_AFTER_MS = 60_000;

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;

/** How a failed attempt bears on a retry. */
export type FailureKind =
  /** Nothing reached the vendor. */
  | 'not-sent'
  /** The vendor refused before acting (429). */
  | 'rate-limited'
  /** The vendor may have applied it (timeout, reset, 408, 5xx). */
  | 'ambiguous'
  /** Retrying will not help (4xx, 3xx, quota exhausted). */
  | 'final';

/** True when repeating the request with the same key cannot refund twice. */
export function isSafeToRetry(kind: FailureKind, dedupes: boolean): boolean {
  if (kind === 'not-sent' || kind === 'rate-limited') return true;
  if (kind === 'ambiguous') return dedupes;
  return false;
}

/**
 * Exponential backoff with jitter: ~0.5 s, 1 s, 2 s … capped at 8 s, each reduced by up to 25 %.
 * (ky's own `jitter` would also shorten a wait the vendor asked for, so the wait is planned here.)
 */
export function backoffDelay(retryNumber: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retryNumber - 1));
  return Math.round(ceiling * (1 - random() * 0.25));
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable. (ky parses it too, but only for the statuses in its
 * `afterStatusCodes`, and falls back to `X-RateLimit-Reset`, which Affonso sends on every answer.)
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  // The three HTTP-date forms all start with a day name ("Sun, 06 Nov 1994 08:49:37 GMT").
  // Anything else goes nowhere near Date.parse, which reads "-5" as the year -5.
  if (!/^[A-Za-z]{3,9},? /.test(text)) return undefined;
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

// Failures that happen before any byte of the request is written, so the vendor cannot have
// acted on it. Undici nests the system error under `cause` (and under AggregateError `errors`
// when several addresses were tried); its refusal of a blocked port is a plain "bad port". Bun
// sets the same codes. Deno sets none: its fetch (hyper) calls a failed connection (refused,
// DNS, TLS handshake) "client error (Connect)", and a blocked port "Requests to port N are blocked".
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const NOT_SENT_MESSAGE = /^bad port$|^(?:Fetch failed: )?Requests to port \d+ are blocked|client error \(Connect\)/;

/** Every error in a cause chain (and AggregateError lists), outermost first. */
export function errorChain(error: unknown, depth = 0): Array<{ code?: unknown; message?: unknown }> {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  const chain = [error as { code?: unknown; message?: unknown }, ...errorChain(cause, depth + 1)];
  if (Array.isArray(errors)) for (const inner of errors) chain.push(...errorChain(inner, depth + 1));
  return chain;
}

/**
 * True when fetch failed in a way that proves nothing was sent. ky does not say whether a
 * request it reports as a `NetworkError` ever left, so clawback reads the causes itself: a
 * connection that was never made, or a request fetch refused outright.
 */
export function neverSent(error: unknown): boolean {
  const chain = errorChain(error);
  const codes = chain.map((entry) => entry.code).filter((code): code is string => typeof code === 'string');
  if (chain.some((entry) => typeof entry.message === 'string' && NOT_SENT_MESSAGE.test(entry.message))) return true;
  return codes.length > 0 && codes.every((code) => NOT_SENT_CODES.has(code));
}
