/**
 * When to retry a refund, and how long to wait. The rule: retry only when a retry cannot
 * refund twice.
 *
 * - The request never reached the vendor (connection refused, DNS failure): always safe.
 * - 429: the vendor refused it before doing anything: always safe.
 * - Timeout, reset connection, 408 or 5xx: the refund may or may not have been applied.
 *   Safe only where the vendor deduplicates this request (`dedupes`): Affixo by `external_id`,
 *   Affonso by `external_event_id`, FirstPromoter by `event_id`, RefCampaign full refunds by
 *   conversion state. A RefCampaign partial refund has no key: never retried.
 * - Anything else (4xx, a 2xx we could not read): not retried.
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
  /** Retrying will not help (4xx, quota exhausted). */
  | 'final';

/** True when repeating the request with the same key cannot refund twice. */
export function isSafeToRetry(kind: FailureKind, dedupes: boolean): boolean {
  if (kind === 'not-sent' || kind === 'rate-limited') return true;
  if (kind === 'ambiguous') return dedupes;
  return false;
}

/** Exponential backoff with jitter: ~0.5 s, 1 s, 2 s … capped at 8 s, each reduced by up to 25 %. */
export function backoffDelay(retryNumber: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (retryNumber - 1));
  return Math.round(ceiling * (1 - random() * 0.25));
}

/**
 * `Retry-After` in milliseconds: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Undefined when absent or unreadable.
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
