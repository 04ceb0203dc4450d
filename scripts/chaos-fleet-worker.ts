// One process of the fleet campaign (scripts/chaos-fleet.ts): its own providers, all four vendors,
// sharing the fleet's ledger and rate budget (Redis or PostgreSQL for the ledger, Redis for the
// budget). It takes refunds over IPC, each delivered to it as a webhook would be, sends each
// through refund() or refundMany(), and answers how it ended. `sabotage` on a job makes it break
// one invariant on purpose (never the SDK: the worker acts as a careless app would).
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  ClawbackError,
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  refund,
  refundMany,
  type ProviderName,
  type RefundLedger,
  type RefundProvider,
} from 'clawback';
import { postgresLedger } from 'clawback/postgres';
import { redisLedger, redisRateLimitStore } from 'clawback/redis';

export interface FleetSetup {
  store: 'redis' | 'postgres';
  redisUrl: string;
  postgresUrl?: string;
  baseURLs: Record<ProviderName, string>;
  apiKeys: Record<ProviderName, string>;
  accountId: string;
  /** Client-side limits per vendor, under the emulator's. */
  limits: Record<ProviderName, Array<{ limit: number; interval: number }>>;
  timeout: number;
  totalTimeout: number;
}

export interface FleetJob {
  id: number;
  vendor: ProviderName;
  conversionId: string;
  amount?: { value: number; currency: string };
  refundId: string;
  way: 'refund()' | 'refundMany';
  sabotage?: string;
}

export type FleetAnswer =
  | { id: number; ok: true; duplicate: boolean }
  | { id: number; ok: false; name: string; ambiguous: boolean; retryable: boolean; message: string; untyped?: boolean };

const setup = JSON.parse(process.argv[2] as string) as FleetSetup;
const redis = new Redis(setup.redisUrl, { maxRetriesPerRequest: null });
redis.on('error', () => {}); // the coordinator restarts Redis on purpose: ioredis reconnects
const pool = setup.postgresUrl ? new pg.Pool({ connectionString: setup.postgresUrl, max: 8, connectionTimeoutMillis: 2_000 }) : undefined;
pool?.on('error', () => {});
const ledger: RefundLedger = setup.store === 'redis' ? redisLedger(redis) : postgresLedger(pool as pg.Pool);
const rateLimitStore = redisRateLimitStore(redis);

const settings = (vendor: ProviderName, fleet: boolean) => ({
  apiKey: setup.apiKeys[vendor],
  baseURL: setup.baseURLs[vendor],
  timeout: setup.timeout,
  totalTimeout: setup.totalTimeout,
  ...(fleet ? { ledger, rateLimitStore, rateLimit: setup.limits[vendor] } : { rateLimit: false as const, maxRetries: 0 }),
});
const make = (fleet: boolean): Record<ProviderName, RefundProvider> => ({
  affixo: createAffixo(settings('affixo', fleet)),
  affonso: createAffonso(settings('affonso', fleet)),
  refcampaign: createRefCampaign(settings('refcampaign', fleet)),
  firstpromoter: createFirstPromoter({ ...settings('firstpromoter', fleet), accountId: setup.accountId }),
});
const providers = make(true);
// For sabotage only: the same vendors, without the ledger or the shared budget.
const careless = make(false);

async function send(job: FleetJob, provider: RefundProvider, key = job.refundId): Promise<FleetAnswer> {
  const options = {
    provider,
    conversionId: job.conversionId,
    ...(job.amount ? { amount: job.amount } : {}),
    ...(job.vendor === 'firstpromoter' ? { customer: { email: `${job.conversionId}@example.com` } } : {}),
  };
  try {
    if (job.way === 'refundMany') {
      const [outcome] = await refundMany([{ ...options, refundId: key } as never]);
      if (!outcome) throw new Error('refundMany returned no outcome');
      if (!outcome.ok) throw outcome.error;
      return { id: job.id, ok: true, duplicate: outcome.result.duplicate };
    }
    const result = await refund({ ...options, idempotencyKey: key } as never);
    return { id: job.id, ok: true, duplicate: result.duplicate };
  } catch (error) {
    const typed = ClawbackError.isInstance(error);
    const failure = error as ClawbackError;
    return { id: job.id, ok: false, name: failure.name, ambiguous: typed && failure.ambiguous, retryable: typed && failure.retryable, message: String(failure.message), ...(typed ? {} : { untyped: true }) };
  }
}

async function handle(job: FleetJob): Promise<FleetAnswer> {
  switch (job.sabotage) {
    case 'applied twice': {
      // An app that sends again under a new key, past the ledger.
      await send(job, careless[job.vendor], `${job.refundId}-again`);
      return send(job, providers[job.vendor]);
    }
    case 'amount applied differs from the amount asked':
      return send({ ...job, ...(job.amount ? { amount: { ...job.amount, value: job.amount.value + 1 } } : {}) }, providers[job.vendor]);
    case 'reported done but not applied':
      return { id: job.id, ok: true, duplicate: false };
    case 'applied, but the ledger does not say so':
      return send(job, careless[job.vendor]);
    case 'untyped errors':
      return { id: job.id, ok: false, name: 'TypeError', ambiguous: false, retryable: false, message: 'sabotage: a raw error', untyped: true };
    case 'a secret in the store': {
      await ledger.claim(
        { provider: job.vendor, account: 'sabotage', idempotencyKey: `leak-${job.id}` },
        { holder: 'sabotage', leaseMs: 1_000, deadline: Date.now() + 5_000, dedupes: true, conversionId: `leaked ${setup.apiKeys[job.vendor]}` },
      );
      return send(job, providers[job.vendor]);
    }
    case "429s from the emulator's own rate limit": {
      // Twice Affonso's burst (100 a second on the plan the campaign uses), past the shared
      // budget: some 429s even when a loaded machine spreads the flood over more than a second
      // (110 did not always make one), and most of the per-minute window left for everyone else.
      // A conversion of its own (unknown to the vendor: a 404 unless refused with a 429 first),
      // so this one's refund still has its whole sale left.
      await Promise.all(Array.from({ length: 200 }, (_, n) => send({ ...job, conversionId: `${job.conversionId}-flood`, refundId: `${job.refundId}-flood-${n}` }, careless[job.vendor]).catch(() => undefined)));
      return send(job, providers[job.vendor]);
    }
    default:
      return send(job, providers[job.vendor]);
  }
}

process.on('message', (job: FleetJob) => {
  // The coordinator may be gone by the time the answer is ready: nothing to tell then.
  void handle(job).then((answer) => process.connected && process.send?.(answer, () => {}));
});
process.on('disconnect', () => {
  redis.disconnect();
  void pool?.end();
  process.exit(0);
});
process.send?.({ ready: true });
