/**
 * Money inside clawback is always `{ value, currency }` with `value` an integer count of the
 * currency's minor unit. Conversion to a vendor's unit happens only at that vendor's edge,
 * through these helpers, on decimal strings: never through binary floating-point arithmetic.
 */

// ISO 4217 minor-unit exponents (List One, as published by SIX; current in 2026). Codes whose
// minor unit is "N.A." (precious metals, SDR, bond units, XTS/XXX) are left out: a refund
// cannot be expressed in them.
const exponentGroups: ReadonlyArray<readonly [exponent: number, codes: string]> = [
  [0, 'BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'],
  [3, 'BHD IQD JOD KWD LYD OMR TND'],
  [4, 'CLF UYW'],
  [
    2,
    'AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP BYN BZD ' +
      'CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP ' +
      'GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK ' +
      'LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO ' +
      'NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS ' +
      'SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST ' +
      'XCD XCG YER ZAR ZMW ZWG ' +
      // Withdrawn since 2024 but still on the sales being refunded: BGN (euro, 2026),
      // ANG (replaced by XCG, 2025), ZWL (replaced by ZWG, 2024).
      'BGN ANG ZWL',
  ],
];

const exponents = new Map<string, number>();
for (const [exponent, codes] of exponentGroups) {
  for (const code of codes.split(' ')) exponents.set(code, exponent);
}

/** Every currency clawback knows, upper-case. */
export function knownCurrencies(): string[] {
  return [...exponents.keys()];
}

/** The ISO 4217 minor-unit exponent of `currency` (upper-case), or undefined if it is not a known currency. */
export function currencyExponent(currency: string): number | undefined {
  return exponents.get(currency);
}

/**
 * Exact decimal text of `minor` minor units in major units, without trailing zeros:
 * (4950, USD) → "49.5", (1234, KWD) → "1.234", (500, JPY) → "500".
 * `minor` must be a safe integer and `currency` a known code (both validated upstream).
 */
export function toMajorUnits(minor: number, currency: string): string {
  const exponent = currencyExponent(currency);
  if (exponent === undefined) throw new RangeError(`Unknown ISO 4217 currency: ${currency}`);
  if (!Number.isSafeInteger(minor)) throw new RangeError('Minor units must be a safe integer');
  if (exponent === 0) return String(minor);
  const sign = minor < 0 ? '-' : '';
  const digits = String(Math.abs(minor)).padStart(exponent + 1, '0');
  const whole = digits.slice(0, -exponent);
  const fraction = digits.slice(-exponent).replace(/0+$/, '');
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/**
 * `toMajorUnits` as a JSON number, for vendors whose `amount` is a number of major units.
 * Returns undefined when no IEEE-754 double prints as exactly that decimal (amounts beyond
 * ~15 significant digits), so the caller can refuse instead of sending a rounded amount.
 */
export function toMajorUnitsNumber(minor: number, currency: string): number | undefined {
  const decimal = toMajorUnits(minor, currency);
  const value = Number(decimal);
  return String(value) === decimal ? value : undefined;
}

/**
 * The exact inverse of `toMajorUnits`: a major-unit amount (a JSON number or decimal text) as
 * an integer of minor units. Undefined when it has more decimals than the currency allows,
 * is not plain decimal notation, or is not a safe integer of minor units: 49.5 USD → 4950,
 * 1.234 KWD → 1234, 49.505 USD → undefined.
 */
export function toMinorUnits(major: number | string, currency: string): number | undefined {
  const exponent = currencyExponent(currency);
  const text = typeof major === 'number' ? String(major) : major.trim();
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (exponent === undefined || !match) return undefined;
  const [, sign = '', whole = '', fraction = ''] = match;
  if (fraction.replace(/0+$/, '').length > exponent) return undefined;
  const minor = Number(`${sign}${whole}${fraction.padEnd(exponent, '0').slice(0, exponent)}`);
  return Number.isSafeInteger(minor) ? minor : undefined;
}
