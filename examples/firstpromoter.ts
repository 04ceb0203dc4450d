// FirstPromoter needs the amount and the lead (email or uid), and an Account-ID header. The
// idempotency key becomes event_id, FirstPromoter's duplicate guard.
// Run: npm run example -- firstpromoter
import { createFirstPromoter, refund } from 'clawback';
import { startLocalVendor } from './support/local-vendor.ts';

const vendor = await startLocalVendor();
const firstpromoter = createFirstPromoter({
  apiKey: 'fp_example_key',
  accountId: 'acc_example', // or FIRSTPROMOTER_ACCOUNT_ID
  baseURL: vendor.baseURL,
});

try {
  const result = await refund({
    provider: firstpromoter,
    conversionId: 'sale_evt_991', // the event_id of the sale being refunded
    amount: { value: 4950, currency: 'USD' }, // sent as "4950"
    customer: { email: 'customer@example.com' },
    providerOptions: { firstpromoter: { skipEmailNotification: true } },
  });
  console.log(`${result.provider}: ${result.status}; commission change ${result.commission?.value} cents`);
} finally {
  await vendor.close();
}
