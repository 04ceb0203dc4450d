// One process of a fleet, for the cross-process tests: connects to the shared ledger (Redis or
// PostgreSQL), waits for "go" on stdin (so several start at the same moment), sends one refund()
// through its own provider, prints the outcome as JSON and exits.
import { Redis } from 'ioredis';
import pg from 'pg';
import { createAffixo, createRefCampaign, refund, type RefundLedger } from 'clawback';
import { postgresLedger } from 'clawback/postgres';
import { redisLedger } from 'clawback/redis';

export interface WorkerJob {
  store: 'redis' | 'postgres';
  storeUrl: string;
  /** Redis key prefix, or PostgreSQL table. */
  namespace: string;
  vendor: 'affixo' | 'refcampaign';
  baseURL: string;
  apiKey: string;
  conversionId: string;
  amount?: { value: number; currency: string };
  idempotencyKey: string;
  totalTimeout: number;
}

const job = JSON.parse(process.argv[2] as string) as WorkerJob;
let ledger: RefundLedger;
let close: () => Promise<unknown>;
if (job.store === 'redis') {
  const redis = new Redis(job.storeUrl, { maxRetriesPerRequest: null });
  redis.on('error', () => {});
  await new Promise((resolve) => redis.once('ready', resolve));
  ledger = redisLedger(redis, { prefix: job.namespace });
  close = async () => redis.disconnect();
} else {
  const pool = new pg.Pool({ connectionString: job.storeUrl, max: 2 });
  ledger = postgresLedger(pool, { table: job.namespace });
  await ledger.list({ limit: 1 }); // the table exists, and a connection is open
  close = () => pool.end();
}
const settings = { apiKey: job.apiKey, baseURL: job.baseURL, ledger, rateLimit: false as const, maxRetries: 0, totalTimeout: job.totalTimeout };
const provider = job.vendor === 'affixo' ? createAffixo(settings) : createRefCampaign(settings);

process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const outcome = await refund({ provider, conversionId: job.conversionId, idempotencyKey: job.idempotencyKey, ...(job.amount ? { amount: job.amount } : {}) } as never).then(
  (result) => ({ ok: true, duplicate: result.duplicate }),
  (error: { name: string; ambiguous: boolean; retryable: boolean; message: string }) => ({ ok: false, name: error.name, ambiguous: error.ambiguous, retryable: error.retryable, message: error.message }),
);
process.stdout.write(`${JSON.stringify(outcome)}\n`);
await close();
process.exit(0);
