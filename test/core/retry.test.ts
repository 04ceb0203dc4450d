import { describe, expect, it } from 'vitest';
import { backoffDelay, isSafeToRetry, neverSent, parseRetryAfter } from '../../src/core/retry.js';

describe('isSafeToRetry', () => {
  it.each([
    ['not-sent', false, true],
    ['rate-limited', false, true],
    ['ambiguous', true, true],
    ['ambiguous', false, false],
    ['final', true, false],
  ] as const)('%s with dedupes=%s → %s', (kind, dedupes, expected) => {
    expect(isSafeToRetry(kind, dedupes)).toBe(expected);
  });
});

describe('backoffDelay', () => {
  it('doubles from 500 ms, caps at 8 s, and jitters down by at most 25 %', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, () => 0))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
    expect(backoffDelay(1, () => 1)).toBe(375);
    expect(backoffDelay(2, () => 0.5)).toBe(875);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  it.each([
    ['7', 7_000],
    ['0', 0],
    [' 2 ', 2_000],
    ['1.5', 1_500],
    ['2026', 2_026_000],
    ['Sun, 22 Nov 2026 10:00:30 GMT', 30_000],
    ['Sun, 22 Nov 2026 09:59:00 GMT', 0],
    ['Sunday, 22-Nov-26 10:00:10 GMT', 10_000],
  ])('%j → %d ms', (header, ms) => {
    expect(parseRetryAfter(header, now)).toBe(ms);
  });

  it.each([null, undefined, '', 'soon', '-5', '2026-11-22', 'Sun, not a date'])('%j → undefined', (header) => {
    expect(parseRetryAfter(header, now)).toBeUndefined();
  });
});

describe('neverSent: failures that prove nothing reached the vendor, as each runtime words them', () => {
  const fetchFailed = (cause: object) => Object.assign(new TypeError('fetch failed'), { cause });
  it.each([
    ['Node (undici), connection refused', fetchFailed(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })), true],
    ['Node (undici), a port fetch blocks', fetchFailed(new Error('bad port')), true],
    ['Bun, connection refused', Object.assign(new TypeError('ECONNREFUSED: Unable to connect.'), { code: 'ECONNREFUSED' }), true],
    ['Deno, connection refused', fetchFailed(new Error('error sending request for url (http://127.0.0.1:1/): client error (Connect): tcp connect error: Connection refused (os error 111)')), true],
    ['Deno, DNS failure', fetchFailed(new Error('error sending request for url (http://x.invalid/): client error (Connect): dns error: failed to lookup address information')), true],
    ['Deno, a port fetch blocks', new TypeError('Fetch failed: Requests to port 1 are blocked'), true],
    ['Node (undici), reset after sending', fetchFailed(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })), false],
    ['Deno, connection closed after sending', fetchFailed(new Error('error sending request for url (http://127.0.0.1:1/): connection closed before message completed')), false],
  ])('%s → %s', (_, error, expected) => {
    expect(neverSent(error)).toBe(expected);
  });
});
