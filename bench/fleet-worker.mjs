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
// `cutOff`: calls whose budget (what was left of the run) ended before their slot: one per loop.
const counts = { ok: 0, rateLimited: 0, cutOff: 0, other: 0 };
await Promise.all(
  Array.from({ length: job.concurrency }, async () => {
    for (;;) {
      const left = Math.round(end - performance.now());
      if (left <= 0) return;
      // Each call's budget is what is left of the run: a call whose slot would come after the end
      // fails at once (TimeoutError, nothing sent) and ends this loop.
      const outcome = await refund({ provider, conversionId: job.conversionId, totalTimeout: left }).then(
        () => 'ok',
        (error) => (error.status === 429 ? 'rateLimited' : error.name === 'TimeoutError' ? 'cutOff' : (process.stderr.write(`${error.name}: ${error.message}\n`), 'other')),
      );
      counts[outcome] += 1;
      if (outcome === 'cutOff') return;
    }
  }),
);
process.send(counts);
redis.disconnect();
process.disconnect();
