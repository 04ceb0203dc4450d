// One process of the fleet benchmark (bench/fleet.mjs): an Affixo provider of the built package
// sharing the fleet's Redis rate budget, keeping `concurrency` refunds in flight from "go" until
// `durationMs` later, then reporting what it sent.
import { Redis } from 'ioredis';
import { createAffixo, refund } from '../dist/index.js';
import { redisRateLimitStore } from '../dist/redis.js';

const job = JSON.parse(process.argv[2]);
const redis = new Redis(job.redisUrl, { maxRetriesPerRequest: null });
await new Promise((resolve) => redis.once('ready', resolve));
const provider = createAffixo({
  apiKey: job.apiKey,
  baseURL: job.baseURL,
  rateLimit: job.limit,
  rateLimitStore: redisRateLimitStore(redis),
  maxRetries: 0,
});
process.send({ ready: true });
await new Promise((resolve) => process.once('message', resolve));
const end = performance.now() + job.durationMs;
const counts = { ok: 0, rateLimited: 0, other: 0 };
await Promise.all(
  Array.from({ length: job.concurrency }, async () => {
    while (performance.now() < end) {
      await refund({ provider, conversionId: job.conversionId, totalTimeout: Math.max(1, Math.round(end - performance.now())) }).then(
        () => (counts.ok += 1),
        (error) => (error.status === 429 ? (counts.rateLimited += 1) : (counts.other += 1)),
      );
    }
  }),
);
process.send(counts);
redis.disconnect();
process.disconnect();
