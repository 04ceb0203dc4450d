// FirstPromoter needs the amount and the lead (email or uid), and an Account-ID header. The
// idempotency key becomes event_id, FirstPromoter's duplicate guard.
// Run: npm run example -- firstpromoter
import { createFirstPromoter, refund } from 'clawback';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, startEmulator } from 'clawback/testing';

// In production: createFirstPromoter() with FIRSTPROMOTER_API_KEY and FIRSTPROMOTER_ACCOUNT_ID set.
const emulator = await startEmulator({
  seed: {
    firstpromoter: [{ id: 'sale_evt_991', sale: { value: 4_950, currency: 'USD' }, commission: 990, lead: { email: 'customer@example.com' } }],
  },
});
const firstpromoter = createFirstPromoter({
  apiKey: EMULATOR_API_KEYS.firstpromoter,
  accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID,
  baseURL: emulator.baseURLs.firstpromoter,
});

try {
  const result = await refund({
    provider: firstpromoter,
    conversionId: 'sale_evt_991', // the event_id of the sale being refunded
    amount: { value: 4_950, currency: 'USD' }, // sent as "4950"
    customer: { email: 'customer@example.com' },
    providerOptions: { firstpromoter: { skipEmailNotification: true } },
  });
  console.log(`${result.provider}: ${result.status}; commission change ${result.commission?.value} cents`);
} finally {
  await emulator.close();
}
