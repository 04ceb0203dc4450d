import fc from 'fast-check';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClawbackError, ValidationError, refund, type ProviderName, type RefundOptions } from '../src/index.js';
import { currencyExponent, knownCurrencies, toMajorUnits, toMajorUnitsNumber, toMinorUnits } from '../src/core/money.js';
import { createEmulator } from '../src/testing/index.js';
import { emulatorHandlers } from '../src/testing/msw.js';

// One emulator behind msw for the whole file; every property counts the requests it sends.
const emulator = createEmulator({ rateLimits: { affixo: false, affonso: false, refcampaign: false, firstpromoter: false } });
let requests = 0;
const server = setupServer(...emulatorHandlers(emulator));
server.events.on('request:start', () => {
  requests += 1;
});
beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
afterAll(() => server.close());
const providers = emulator.providers();
const names: ProviderName[] = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'];

/** Sends `options` and reports what happened, with how many requests went out. */
async function attempt(options: unknown): Promise<{ error?: unknown; requests: number }> {
  const before = requests;
  try {
    await refund(options as RefundOptions);
    return { requests: requests - before };
  } catch (error) {
    return { error, requests: requests - before };
  }
}

describe('refund() input, for any value', () => {
  it('is refused with a ValidationError and no request, or sent: never a TypeError', async () => {
    const field = fc.oneof(fc.anything(), fc.string(), fc.integer(), fc.double(), fc.constant(undefined), fc.constant(null));
    const options = fc.oneof(
      fc.anything(),
      fc.record(
        {
          provider: fc.oneof(fc.constantFrom(...names.map((name) => providers[name])), fc.anything()),
          conversionId: field,
          amount: fc.oneof(field, fc.record({ value: field, currency: field })),
          reason: field,
          refundedAt: field,
          customer: fc.oneof(field, fc.record({ email: field, uid: field }, { requiredKeys: [] })),
          idempotencyKey: field,
          timeout: field,
          maxRetries: field,
          providerOptions: field,
        },
        { requiredKeys: [] },
      ),
    );
    await fc.assert(
      fc.asyncProperty(options, async (value) => {
        const { error, requests: sent } = await attempt(value);
        if (ValidationError.isInstance(error)) {
          expect(sent).toBe(0);
          expect(error.issues.length).toBeGreaterThan(0);
          for (const issue of error.issues) expect(issue.message.length).toBeGreaterThan(0);
        } else if (error !== undefined) {
          // It went out (to an unseeded conversion, say): a typed vendor error, never a crash.
          expect(ClawbackError.isInstance(error), String(error)).toBe(true);
          expect(sent).toBeGreaterThan(0);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('names the field it refuses', async () => {
    const valid = { provider: providers.affonso, conversionId: 'com_1', amount: { value: 100, currency: 'USD' } };
    const corruptions: Array<[string, fc.Arbitrary<unknown>]> = [
      ['conversionId', fc.oneof(fc.constant(''), fc.constant('  '), fc.integer(), fc.constant(null))],
      ['amount.value', fc.oneof(fc.double({ noInteger: true }), fc.integer({ max: 0 }), fc.constant(2 ** 53), fc.string())],
      ['amount.currency', fc.string({ minLength: 1, maxLength: 5 }).filter((code) => currencyExponent(code.toUpperCase()) === undefined)],
      ['refundedAt', fc.oneof(fc.string().filter((text) => Number.isNaN(Date.parse(text))), fc.constant(new Date(Number.NaN)))],
      ['idempotencyKey', fc.oneof(fc.constant(''), fc.string({ minLength: 256, maxLength: 300 }), fc.constant('has space'))],
      ['timeout', fc.oneof(fc.integer({ max: 0 }), fc.double({ noInteger: true, min: 0.1, max: 1e6 }))],
      ['maxRetries', fc.oneof(fc.integer({ min: 11 }), fc.integer({ max: -1 }))],
    ];
    for (const [path, invalid] of corruptions) {
      await fc.assert(
        fc.asyncProperty(invalid, async (value) => {
          const options = structuredClone({ ...valid, provider: undefined }) as Record<string, unknown>;
          const [head, tail] = path.split('.') as [string, string | undefined];
          if (tail) (options[head] as Record<string, unknown>)[tail] = value;
          else options[head] = value;
          const { error, requests: sent } = await attempt({ ...options, provider: valid.provider });
          expect(ValidationError.isInstance(error)).toBe(true);
          expect((error as ValidationError).issues.map((issue) => issue.path)).toContain(path);
          expect(sent).toBe(0);
        }),
        { numRuns: 60 },
      );
    }
  });
});

describe('valid refund() input', () => {
  // Currencies every vendor can take as refund() sends them (FirstPromoter: exponents 0 and 2).
  const currency = fc.constantFrom('USD', 'EUR', 'GBP', 'JPY', 'KRW', 'CHF', 'SEK', 'BRL', 'INR');
  let next = 0;

  it("is accepted by each vendor's contract (the emulator's), which applies exactly the amount asked", async () => {
    const call = fc.record({
      provider: fc.constantFrom(...names),
      currency,
      sale: fc.integer({ min: 2, max: 10_000_000 }),
      fraction: fc.double({ min: 0, max: 1, noNaN: true }),
      full: fc.boolean(),
      reason: fc.option(fc.string({ minLength: 1, maxLength: 40 }).filter((text) => text.trim() !== ''), { nil: undefined }),
      refundedAt: fc.option(fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), { nil: undefined }),
      callerKey: fc.option(fc.stringMatching(/^[\x21-\x7e]{1,64}$/), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(call, async ({ provider, currency: code, sale, fraction, full, reason, refundedAt, callerKey }) => {
        const id = `prop_${(next += 1)}`;
        emulator.seed({ [provider]: [{ id, sale: { value: sale, currency: code }, lead: { uid: `lead_${id}` } }] });
        // Affixo reverses whole conversions; FirstPromoter always names the amount; the others
        // name one only for a partial refund.
        const value = full ? sale : Math.max(1, Math.round(sale * fraction));
        const sendsAmount = provider === 'firstpromoter' || (provider !== 'affixo' && !full);
        const refCampaignPartial = provider === 'refcampaign' && sendsAmount; // takes no caller key
        const result = await refund({
          provider: providers[provider],
          conversionId: id,
          ...(sendsAmount ? { amount: { value, currency: code } } : {}),
          ...(provider === 'firstpromoter' ? { customer: { uid: `lead_${id}` } } : {}),
          ...(reason === undefined ? {} : { reason }),
          ...(refundedAt === undefined ? {} : { refundedAt }),
          ...(callerKey === undefined || refCampaignPartial ? {} : { idempotencyKey: `${callerKey}-${id}` }),
        } as RefundOptions);
        expect(result.provider).toBe(provider);
        const applied = provider === 'affixo' ? sale : value;
        expect(emulator.ledger.refunds({ provider, conversionId: id })).toEqual([expect.objectContaining({ amount: applied })]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('money', () => {
  const currencies = knownCurrencies();
  const minor = fc.oneof(
    fc.integer({ min: 1, max: 1_000_000 }),
    fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
    fc.constant(Number.MAX_SAFE_INTEGER),
  );

  it('round-trips exactly through major units, for every ISO 4217 currency and safe integer', () => {
    fc.assert(
      fc.property(fc.constantFrom(...currencies), minor, (code, value) => {
        expect(toMinorUnits(toMajorUnits(value, code), code)).toBe(value);
      }),
      { numRuns: 5_000 },
    );
  });

  it('never sends Affonso a rounded amount: the JSON number is exact, or there is none', () => {
    fc.assert(
      fc.property(fc.constantFrom(...currencies), minor, (code, value) => {
        const major = toMajorUnitsNumber(value, code);
        if (major === undefined) {
          expect(value).toBeGreaterThan(10 ** 15); // only beyond what a double holds exactly
          return;
        }
        expect(toMinorUnits(JSON.parse(JSON.stringify(major)) as number, code)).toBe(value);
      }),
      { numRuns: 5_000 },
    );
  });

  it('covers every code the SDK accepts', () => {
    expect(currencies.length).toBeGreaterThan(150);
    for (const code of currencies) expect(code).toMatch(/^[A-Z]{3}$/);
  });
});
