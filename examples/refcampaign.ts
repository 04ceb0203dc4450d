// RefCampaign: a full refund (no amount) is safe to retry; a partial refund has no idempotency
// key on RefCampaign's side, so clawback never retries it after an ambiguous failure.
// Run: npm run example -- refcampaign
import { ClawbackError, createRefCampaign, refund } from 'clawback';
import { startLocalVendor } from './support/local-vendor.ts';

const vendor = await startLocalVendor();
const refcampaign = createRefCampaign({ apiKey: 'rc_test_example_key', baseURL: vendor.baseURL });

try {
  const full = await refund({ provider: refcampaign, conversionId: 'order_1234' });
  console.log(`full refund: ${full.status}, request ${full.requestId}`);

  const partial = await refund({
    provider: refcampaign,
    conversionId: 'order_5678',
    amount: { value: 1500, currency: 'EUR' }, // in the conversion's own currency
  });
  console.log(`partial refund: ${partial.status}`);
  console.log('warnings:', partial.warnings);
} catch (error) {
  if (ClawbackError.isInstance(error) && !error.retryable) console.error(`do not retry blindly: ${error.message}`);
  throw error;
} finally {
  await vendor.close();
}
