// Written the way a merchant would, with nothing but `clawback`, `clawback/testing` and msw. The
// region below is docs/testing.md's msw example, verbatim (test/docs/docs.e2e.ts
// fails if they drift apart).
// #region readme
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { createAffonso, refund } from 'clawback';
import { EMULATOR_API_KEYS, createEmulator } from 'clawback/testing';
import { emulatorHandlers } from 'clawback/testing/msw';

const emulator = createEmulator();
const server = setupServer(...emulatorHandlers(emulator)); // intercepts the vendors' real URLs
beforeAll(() => server.listen());
afterEach(() => emulator.reset());
afterAll(() => server.close());

test('a refund webhook delivered twice claws the commission back exactly once', async () => {
  emulator.seed({ affonso: [{ id: 'com_1', sale: { value: 12_000, currency: 'USD' }, commission: 3_600 }] });
  const affonso = createAffonso({ apiKey: EMULATOR_API_KEYS.affonso });
  const refundOrder = () =>
    refund({ provider: affonso, conversionId: 'com_1', amount: { value: 4_000, currency: 'USD' }, idempotencyKey: 're_1' });

  await refundOrder();
  await refundOrder(); // the payment processor retried its webhook

  expect(emulator.ledger.refunds({ provider: 'affonso', conversionId: 'com_1' })).toHaveLength(1);
  expect(emulator.ledger.conversion('affonso', 'com_1')).toMatchObject({ refunded: 4_000, commission: 2_400 });
});
// #endregion readme

test('a refund whose answer was lost is retried by clawback and still applied once', async () => {
  emulator.seed({ affonso: [{ id: 'com_2', sale: { value: 5_000, currency: 'USD' } }] });
  emulator.inject({ provider: 'affonso', status: 502, afterApply: true, headers: { 'retry-after': '0' } });

  const result = await refund({
    provider: createAffonso({ apiKey: EMULATOR_API_KEYS.affonso }),
    conversionId: 'com_2',
    amount: { value: 5_000, currency: 'USD' },
    idempotencyKey: 're_2',
  });

  expect(result).toMatchObject({ status: 'refunded', duplicate: true });
  expect(emulator.ledger.refunds({ conversionId: 'com_2' })).toHaveLength(1);
});
