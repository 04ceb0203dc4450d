import { describe, expect, it } from 'vitest';
import { currencyExponent, toMajorUnits, toMajorUnitsNumber, toMinorUnits } from '../../src/core/money.js';

describe('toMajorUnits', () => {
  it.each([
    [4950, 'USD', '49.5'],
    [4900, 'USD', '49'],
    [1, 'USD', '0.01'],
    [10, 'USD', '0.1'],
    [123456789, 'EUR', '1234567.89'],
    [500, 'JPY', '500'],
    [1, 'KRW', '1'],
    [1234, 'KWD', '1.234'],
    [1, 'KWD', '0.001'],
    [1000, 'BHD', '1'],
    [12345, 'CLF', '1.2345'],
    [-4950, 'USD', '-49.5'],
    [Number.MAX_SAFE_INTEGER, 'USD', '90071992547409.91'],
  ])('%d %s minor units → %s', (minor, currency, expected) => {
    expect(toMajorUnits(minor, currency)).toBe(expected);
  });

  it('refuses unknown currencies and non-integers instead of guessing', () => {
    expect(() => toMajorUnits(100, 'XXX')).toThrow(RangeError);
    expect(() => toMajorUnits(49.5, 'USD')).toThrow(RangeError);
  });
});

describe('toMajorUnitsNumber', () => {
  it('gives the double whose JSON text is exactly the decimal amount', () => {
    expect(toMajorUnitsNumber(4950, 'USD')).toBe(49.5);
    expect(JSON.stringify({ amount: toMajorUnitsNumber(1234, 'KWD') })).toBe('{"amount":1.234}');
    expect(JSON.stringify({ amount: toMajorUnitsNumber(500, 'JPY') })).toBe('{"amount":500}');
    // 0.1 + 0.2 style drift cannot appear: 30 cents is the literal 0.3
    expect(JSON.stringify({ amount: toMajorUnitsNumber(30, 'USD') })).toBe('{"amount":0.3}');
  });

  it('returns undefined when no double prints as the exact amount', () => {
    expect(toMajorUnitsNumber(Number.MAX_SAFE_INTEGER, 'USD')).toBeUndefined();
    expect(toMajorUnitsNumber(999_999_999_999_999, 'USD')).toBe(9_999_999_999_999.99);
  });
});

describe('currencyExponent', () => {
  it('knows ISO 4217 exponents, upper-case codes only', () => {
    expect(currencyExponent('USD')).toBe(2);
    expect(currencyExponent('JPY')).toBe(0);
    expect(currencyExponent('KWD')).toBe(3);
    expect(currencyExponent('UYW')).toBe(4);
    expect(currencyExponent('BGN')).toBe(2);
    expect(currencyExponent('usd')).toBeUndefined();
    expect(currencyExponent('XAU')).toBeUndefined();
  });
});

describe('toMinorUnits', () => {
  it.each([
    [49.5, 'USD', 4950],
    ['49.50', 'USD', 4950],
    [0.01, 'USD', 1],
    [500, 'JPY', 500],
    [1.234, 'KWD', 1234],
    [0.3, 'EUR', 30],
    ['-12.5', 'EUR', -1250],
  ])('%j %s → %d minor units', (major, currency, minor) => {
    expect(toMinorUnits(major, currency)).toBe(minor);
  });

  it.each([
    [49.505, 'USD'],
    [0.5, 'JPY'],
    [1e-7, 'USD'],
    ['1,5', 'EUR'],
    [100, 'XXX'],
    [1e300, 'USD'],
  ])('refuses %j %s', (major, currency) => {
    expect(toMinorUnits(major, currency)).toBeUndefined();
  });

  it('round-trips with toMajorUnits for every currency exponent', () => {
    for (const currency of ['JPY', 'USD', 'KWD', 'CLF']) {
      for (const minor of [1, 7, 10, 4950, 123_456_789, 999_999_999_999]) {
        expect(toMinorUnits(toMajorUnits(minor, currency), currency)).toBe(minor);
      }
    }
  });
});
