// RefCampaign: a full refund (no amount) is safe to retry; a partial refund has no idempotency
// key on RefCampaign's side, so clawback never retries it after an ambiguous failure.
// Run: npm run example -- refcampaign
import { ClawbackError, createRefCampaign, refund } from 'clawback';
import { EMULATOR_API_KEYS, startEmulator } from 'clawback/testing';

// In production: createRefCampaign() with REFCAMPAIGN_API_KEY set, and no baseURL.
const emulator = await startEmulator({
  seed: {
    refcampaign: [
      { id: 'order_1234', sale: { value: 9_900, currency: 'EUR' } },
      { id: 'order_5678', sale: { value: 4_500, currency: 'EUR' }, commissionStatus: 'paid' },
    ],
  },
});
const refcampaign = createRefCampaign({ apiKey: EMULATOR_API_KEYS.refcampaign, baseURL: emulator.baseURLs.refcampaign });

try {
  const full = await refund({ provider: refcampaign, conversionId: 'order_1234' });
  console.log(`full refund: ${full.status}, request ${full.requestId}`);

  const partial = await refund({
    provider: refcampaign,
    conversionId: 'order_5678',
    amount: { value: 1_500, currency: 'EUR' }, // in the conversion's own currency
  });
  console.log(`partial refund: ${partial.status}`);
  console.log('warnings:', partial.warnings);
  console.log('clawback on the paid commission:', emulator.ledger.refunds({ conversionId: 'order_5678' })[0]?.commissionChange, 'cents');
} catch (error) {
  if (ClawbackError.isInstance(error) && !error.retryable) console.error(`do not retry blindly: ${error.message}`);
  throw error;
} finally {
  await emulator.close();
}
