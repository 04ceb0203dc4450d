// Refunds as queued jobs, the way Node teams already run background work: a BullMQ queue of
// refund batches, two workers (two processes in production) turning each job into one
// refundMany() call, sharing a Redis ledger and rate budget. A job that fails in part is retried
// by BullMQ, and a batch enqueued twice (two producers, no shared jobId) is processed twice:
// each refund is still applied once, RefCampaign partial refunds included.
// Run: npm run example -- bullmq-worker (starts its own redis-server and the emulator).
import assert from 'node:assert/strict';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createAffonso, createRefCampaign, refundMany, type RefundManyItem } from 'clawback';
import { redisLedger, redisRateLimitStore } from 'clawback/redis';
import { EMULATOR_API_KEYS, startEmulator } from 'clawback/testing';
import { startRedis } from '../test/support/servers.mjs';

/** A queued refund: what a producer knows (no provider object: it is the worker's). */
interface RefundJob {
  vendor: 'affonso' | 'refcampaign';
  conversionId: string;
  amount?: { value: number; currency: string };
  /** The payment processor's id of the refund: the derived idempotency key comes from it. */
  refundId: string;
}

const redisServer = await startRedis(); // in production: your Redis, with appendonly yes
const emulator = await startEmulator({
  seed: {
    affonso: [{ id: 'com_2001', sale: { value: 10_000, currency: 'USD' } }],
    refcampaign: [
      { id: 'order_2002', sale: { value: 10_000, currency: 'USD' } },
      { id: 'order_2003', sale: { value: 5_000, currency: 'USD' } },
    ],
  },
});
// The first attempt at Affonso fails after Affonso applied it (a 503): the job fails, and
// BullMQ's retry must not refund it twice.
emulator.inject({ provider: 'affonso', conversionId: 'com_2001', status: 503, afterApply: true, times: 3 });

// BullMQ requires maxRetriesPerRequest: null on its connections: ioredis then holds commands
// until Redis answers. clawback gives its ledger commands their own deadline all the same.
const connections: Redis[] = [];
const connection = () => {
  const redis = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  connections.push(redis);
  return redis;
};

/** One worker: its own connection and providers, one refundMany() per job. */
function startWorker(name: string): Worker<RefundJob[]> {
  const redis = connection();
  const shared = { ledger: redisLedger(redis), rateLimitStore: redisRateLimitStore(redis), maxRetries: 0 };
  const providers = {
    affonso: createAffonso({ apiKey: EMULATOR_API_KEYS.affonso, baseURL: emulator.baseURLs.affonso, ...shared }),
    refcampaign: createRefCampaign({ apiKey: EMULATOR_API_KEYS.refcampaign, baseURL: emulator.baseURLs.refcampaign, ...shared }),
  };
  const worker = new Worker<RefundJob[]>(
    'refunds',
    async (job) => {
      const items: RefundManyItem[] = job.data.map(({ vendor, ...refund }) => ({ provider: providers[vendor], ...refund }) as RefundManyItem);
      const outcomes = await refundMany(items);
      for (const outcome of outcomes) {
        const what = outcome.ok ? `${outcome.result.status}${outcome.result.duplicate ? ' (a replay)' : ''}` : `${outcome.error.name} (retryable: ${outcome.error.retryable})`;
        console.log(`  ${name} job ${job.id} attempt ${job.attemptsMade + 1}: ${items[outcome.index]?.conversionId}: ${what}`);
      }
      // Throw to have BullMQ retry the job when sending again could help; what succeeded replays.
      const again = outcomes.filter((outcome) => !outcome.ok && outcome.error.retryable);
      if (again.length > 0) throw new Error(`${again.length} refunds to send again`);
      return outcomes.map((outcome) => outcome.ok);
    },
    { connection: redis, concurrency: 2 },
  );
  worker.on('error', () => {});
  return worker;
}

const queue = new Queue<RefundJob[]>('refunds', { connection: connection() });
const events = new QueueEvents('refunds', { connection: connection() });
const workers = [startWorker('worker-1'), startWorker('worker-2')];
try {
  const batch: RefundJob[] = [
    { vendor: 'affonso', conversionId: 'com_2001', amount: { value: 2_500, currency: 'USD' }, refundId: 're_2001' },
    // RefCampaign has no key for a partial refund: the ledger is what sends it once.
    { vendor: 'refcampaign', conversionId: 'order_2002', amount: { value: 4_000, currency: 'USD' }, refundId: 're_2002' },
    { vendor: 'refcampaign', conversionId: 'order_2003', refundId: 're_2003' },
  ];
  const options = { attempts: 5, backoff: { type: 'fixed', delay: 200 } };
  // Two producers enqueue the same batch: two jobs, both processed.
  const jobs = await Promise.all([queue.add('batch', batch, options), queue.add('batch', batch, options)]);
  await Promise.all(jobs.map((job) => job.waitUntilFinished(events, 30_000)));

  const amounts = (vendor: 'affonso' | 'refcampaign', id: string) => emulator.ledger.refunds({ provider: vendor, conversionId: id }).map((entry) => entry.amount);
  assert.deepEqual(amounts('affonso', 'com_2001'), [2_500]);
  assert.deepEqual(amounts('refcampaign', 'order_2002'), [4_000]);
  assert.deepEqual(amounts('refcampaign', 'order_2003'), [5_000]);
  console.log(`${emulator.ledger.refunds().length} refunds applied at the vendor, each once, from 2 jobs of the same 3 refunds (retried by BullMQ after the 503)`);
} finally {
  await Promise.all(workers.map((worker) => worker.close()));
  await Promise.all([queue.close(), events.close()]);
  // BullMQ leaves the connections it was given open.
  for (const redis of connections) redis.disconnect();
  await emulator.close();
  await redisServer.stop();
}
