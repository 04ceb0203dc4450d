import { describe, expect, it } from 'vitest';
import { backoffDelay, isSafeToRetry, parseRetryAfter } from '../../src/core/retry.js';

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
