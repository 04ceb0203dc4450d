// Stripe events in, commissions reversed: replays recorded Stripe webhook events
// (examples/fixtures/stripe/*.json, in the order Stripe sent them, one of them delivered twice)
// through the same handler body as docs/stripe.md's Express endpoint, against the emulator.
// Run: npm run example -- stripe
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createAffonso, refundMany } from 'clawback';
import { refundsFromStripeEventAsync } from 'clawback/stripe';
import { EMULATOR_API_KEYS, startEmulator } from 'clawback/testing';

const emulator = await startEmulator({
  seed: {
    affonso: [
      { id: 'com_1001', sale: { value: 12_000, currency: 'USD' } },
      { id: 'com_1002', sale: { value: 8_000, currency: 'JPY' } },
      { id: 'com_1003', sale: { value: 12_340, currency: 'KWD' } },
    ],
  },
});
// In production: createAffonso() with AFFONSO_API_KEY (and AFFONSO_SIGNING_SECRET) set, and no baseURL.
const affonso = createAffonso({ apiKey: EMULATOR_API_KEYS.affonso, baseURL: emulator.baseURLs.affonso });

// The merchant's orders table (a database in real life, hence the async lookup below): which
// Affonso conversion each Stripe PaymentIntent paid for.
const orders = new Map([
  ['pi_3SWq1bKx7LmN2pQa0Zx9Wv8u', 'com_1001'],
  ['pi_3SWr2cKx7LmN2pQa2pT7wH1j', 'com_1002'],
  ['pi_3SWs3eKx7LmN2pQa4tX1aL5n', 'com_1003'],
]);

/** The webhook handler's body, after stripe.webhooks.constructEvent: the HTTP status to answer. */
async function handleStripeEvent(event: unknown): Promise<number> {
  const { items, skipped } = await refundsFromStripeEventAsync(event, {
    provider: affonso,
    conversionId: async ({ paymentIntentId }) => (paymentIntentId ? orders.get(paymentIntentId) : undefined),
  });
  for (const { reason } of skipped) console.log(`  skipped: ${reason}`);
  const outcomes = await refundMany(items);
  for (const outcome of outcomes) {
    const item = items[outcome.index];
    if (outcome.ok) {
      const { status, duplicate } = outcome.result;
      console.log(`  ${item?.conversionId} ${item?.refundId}: ${status}${duplicate ? ' (a replay: already reversed)' : ''}`);
    } else {
      console.log(`  ${item?.conversionId} ${item?.refundId}: ${outcome.error.name}: ${outcome.error.message}`);
    }
  }
  // A failure worth sending again (a 5xx, a timeout): 500, so Stripe redelivers the event; the
  // items that succeeded replay under the same keys. Others (an unknown conversion) need a person.
  return outcomes.some((outcome) => !outcome.ok && (outcome.error.retryable || outcome.error.ambiguous)) ? 500 : 200;
}

try {
  const directory = 'examples/fixtures/stripe'; // run from the repository's root, as npm does
  for (const file of readdirSync(directory).filter((name) => name.endsWith('.json')).sort()) {
    const event = JSON.parse(readFileSync(join(directory, file), 'utf8')) as { id: string; type: string };
    console.log(`${event.type} ${event.id}`);
    console.log(`  → HTTP ${await handleStripeEvent(event)}`);
  }

  // Two equal partial refunds of order 1001 are two refunds; its redelivered event is not a third.
  const refunded = (id: string) => emulator.ledger.refunds({ provider: 'affonso', conversionId: id }).map((refund) => refund.amount);
  assert.deepEqual(refunded('com_1001'), [1_500, 1_500]);
  assert.deepEqual(refunded('com_1002'), [8_000]); // acted on once the refund succeeded
  assert.deepEqual(refunded('com_1003'), [12_340]); // the chargeback: the disputed amount (here the whole charge)
  for (const id of ['com_1001', 'com_1002', 'com_1003']) {
    const conversion = emulator.ledger.conversion('affonso', id);
    console.log(`${id}: refunded ${conversion?.refunded} of ${conversion?.sale.value} ${conversion?.sale.currency}, commission now ${conversion?.commission}`);
  }
} finally {
  await emulator.close();
}
