// The Stripe webhook handler of examples/stripe.ts, as a deploy runs it: several instances behind
// a load balancer, each with its own Redis connection, sharing one refund ledger and one rate
// budget. Stripe delivers an event to whichever instance is free, and again when it gets no 2xx
// (sometimes while the first instance is still working). Here each event reaches two instances
// at once, and every one again a little later: each refund is reversed exactly once.
// Run: npm run example -- stripe-fleet (starts its own redis-server and the emulator).
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createAffonso, refundMany } from 'clawback';
import { redisLedger, redisRateLimitStore } from 'clawback/redis';
import { refundsFromStripeEventAsync } from 'clawback/stripe';
import { EMULATOR_API_KEYS, startEmulator } from 'clawback/testing';
import { startRedis } from '../test/support/servers.mjs';

const redisServer = await startRedis(); // in production: your Redis, with appendonly yes
const emulator = await startEmulator({
  seed: {
    affonso: [
      { id: 'com_1001', sale: { value: 12_000, currency: 'USD' } },
      { id: 'com_1002', sale: { value: 8_000, currency: 'JPY' } },
      { id: 'com_1003', sale: { value: 12_340, currency: 'KWD' } },
    ],
  },
});
const orders = new Map([
  ['pi_3SWq1bKx7LmN2pQa0Zx9Wv8u', 'com_1001'],
  ['pi_3SWr2cKx7LmN2pQa2pT7wH1j', 'com_1002'],
  ['pi_3SWs3eKx7LmN2pQa4tX1aL5n', 'com_1003'],
]);

/** One instance of the app: its own Redis connection and provider, the handler of examples/stripe.ts. */
async function startInstance(name: string): Promise<{ url: string; close: () => Promise<void> }> {
  // What BullMQ asks of a connection (maxRetriesPerRequest: null) is fine here too: clawback gives
  // its ledger commands their own deadline, so one is never run after its refund gave up.
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const affonso = createAffonso({
    apiKey: EMULATOR_API_KEYS.affonso, // in production: AFFONSO_API_KEY
    baseURL: emulator.baseURLs.affonso, // in production: none
    ledger: redisLedger(redis),
    rateLimitStore: redisRateLimitStore(redis),
  });
  const server: Server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    // In production: stripe.webhooks.constructEvent(raw body, stripe-signature header, secret).
    const event = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id: string; type: string };
    const { items } = await refundsFromStripeEventAsync(event, {
      provider: affonso,
      conversionId: async ({ paymentIntentId }) => (paymentIntentId ? orders.get(paymentIntentId) : undefined),
    });
    const outcomes = await refundMany(items);
    for (const outcome of outcomes) {
      const item = items[outcome.index];
      const what = outcome.ok ? `${outcome.result.status}${outcome.result.duplicate ? ' (a replay: already reversed)' : ''}` : `${outcome.error.name}`;
      console.log(`  ${name} ${event.id}: ${item?.conversionId} ${item?.refundId}: ${what}`);
    }
    // 500 when sending again could help: Stripe redelivers, and what succeeded replays from the ledger.
    const again = outcomes.some((outcome) => !outcome.ok && (outcome.error.retryable || outcome.error.ambiguous));
    response.writeHead(again ? 500 : 200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      redis.disconnect();
    },
  };
}

const instances = await Promise.all(['web-1', 'web-2', 'web-3'].map(startInstance));
/** Stripe's delivery of one event to one instance: the status it got. */
const deliver = async (instance: { url: string }, body: string) => (await fetch(instance.url, { method: 'POST', body })).status;

try {
  const directory = 'examples/fixtures/stripe'; // run from the repository's root, as npm does
  const events = readdirSync(directory)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => readFileSync(join(directory, file), 'utf8'));
  for (const [index, body] of events.entries()) {
    const { type, id } = JSON.parse(body) as { type: string; id: string };
    console.log(`${type} ${id}`);
    // Two instances at the same moment (a delivery that looked lost, sent again at once) …
    const statuses = await Promise.all([deliver(instances[index % 3]!, body), deliver(instances[(index + 1) % 3]!, body)]);
    console.log(`  → HTTP ${statuses.join(', ')}`);
  }
  // … and every event once more, later, to the third instance (Stripe's redeliveries).
  console.log('redelivering every event');
  for (const [index, body] of events.entries()) assert.equal(await deliver(instances[(index + 2) % 3]!, body), 200);

  const refunded = (id: string) => emulator.ledger.refunds({ provider: 'affonso', conversionId: id });
  // Each Stripe refund and dispute reversed once, whatever the deliveries.
  assert.deepEqual(refunded('com_1001').map((entry) => entry.amount), [1_500, 1_500]); // two equal partial refunds: two refunds
  assert.deepEqual(refunded('com_1002').map((entry) => entry.amount), [8_000]);
  assert.deepEqual(refunded('com_1003').map((entry) => entry.amount), [12_340]);
  console.log(`${emulator.ledger.refunds().length} refunds applied at the vendor, each once, from ${events.length * 3} deliveries to 3 instances`);
} finally {
  await Promise.all(instances.map((instance) => instance.close()));
  await emulator.close();
  await redisServer.stop();
}
