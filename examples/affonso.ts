// A partial refund on Affonso: 25.00 USD as 2500 minor units, sent as the JSON number 25 of
// major units. The same idempotencyKey on a retry cannot refund twice. Run: npm run example -- affonso
import { RateLimitError, createAffonso, refund } from 'clawback';
import { startLocalVendor } from './support/local-vendor.ts';

const vendor = await startLocalVendor();
const affonso = createAffonso({ apiKey: 'sk_live_example_key', baseURL: vendor.baseURL });

try {
  const result = await refund({
    provider: affonso,
    conversionId: 'com_abc123', // Affonso's own conversion id, from when the sale was recorded
    amount: { value: 2500, currency: 'USD' },
    reason: 'customer_cancellation',
    refundedAt: new Date(),
    idempotencyKey: 'refund_evt_2026_000145', // e.g. your payment processor's refund id
  });
  console.log(`${result.provider}: ${result.status}${result.duplicate ? ' (replay)' : ''}`);
} catch (error) {
  if (RateLimitError.isInstance(error)) console.error(`rate limited; retry after ${error.retryAfter} ms with the same key`);
  throw error;
} finally {
  await vendor.close();
}
