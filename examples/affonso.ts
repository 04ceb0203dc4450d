// A partial refund on Affonso: 25.00 USD as 2500 minor units, sent as the JSON number 25 of
// major units. The same idempotencyKey on a retry cannot refund twice. Run: npm run example -- affonso
import { RateLimitError, createAffonso, refund } from 'clawback';
import { EMULATOR_API_KEYS, startEmulator } from 'clawback/testing';

// In production: createAffonso() with AFFONSO_API_KEY set, and no baseURL.
const emulator = await startEmulator({
  seed: { affonso: [{ id: 'com_abc123', sale: { value: 12_000, currency: 'USD' }, commission: 3_600 }] },
});
const affonso = createAffonso({ apiKey: EMULATOR_API_KEYS.affonso, baseURL: emulator.baseURLs.affonso });

try {
  const refundOnce = () =>
    refund({
      provider: affonso,
      conversionId: 'com_abc123', // Affonso's own conversion id, from when the sale was recorded
      amount: { value: 2_500, currency: 'USD' },
      reason: 'customer_cancellation',
      refundedAt: new Date(),
      idempotencyKey: 'refund_evt_2026_000145', // e.g. your payment processor's refund id
    });
  const first = await refundOnce();
  const again = await refundOnce(); // a retried webhook: Affonso replays instead of refunding again
  console.log(`${first.provider}: ${first.status}; again → duplicate: ${again.duplicate}`);
  console.log('refunds applied:', emulator.ledger.refunds({ provider: 'affonso' }).length);
  console.log('commission now:', emulator.ledger.conversion('affonso', 'com_abc123')?.commission, 'cents');
} catch (error) {
  if (RateLimitError.isInstance(error)) console.error(`rate limited; retry after ${error.retryAfter} ms with the same key`);
  throw error;
} finally {
  await emulator.close();
}
