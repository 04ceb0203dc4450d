// `npm run chaos -- --seed N --refunds M [--concurrency C]`: a reproducible fault campaign.
// Refunds run through all four providers against the emulator's real HTTP server on loopback,
// each hit (or not) by a fault the seed picks: refused or reset connections, timeouts before
// and after the refund is applied, 5xx with JSON/HTML/empty bodies, 429s of every kind,
// unreadable 2xx. The driver acts as a careful user: it repeats a failed call only when the
// error says `retryable`, with `error.idempotencyKey`. The emulator's ledger is the judge.
// Exits 1 when an invariant breaks.
import { mkdirSync, writeFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { createServer } from 'node:net';
import {
  ClawbackError,
  RateLimitError,
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  refund,
  type FetchFunction,
  type ProviderName,
  type RefundOptions,
  type RefundProvider,
} from 'clawback';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, startEmulator, type Fault } from 'clawback/testing';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]?.replace(/^--/, '') ?? '', process.argv[i + 1] ?? '');
const seed = Number(args.get('seed') ?? 1);
const total = Number(args.get('refunds') ?? 2_000);
const concurrency = Number(args.get('concurrency') ?? 64);
if (![seed, total, concurrency].every(Number.isSafeInteger) || total < 1 || concurrency < 1) {
  console.error('usage: npm run chaos -- [--seed N] [--refunds N] [--concurrency N]');
  process.exit(2);
}

/** mulberry32: a small seeded PRNG, so a campaign is reproducible from its seed. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const rng = random(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)] as T;

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));
const resourceCounts = () => {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
};
const before = resourceCounts();

// ---- the faults ------------------------------------------------------------------------
const TIMEOUT_MS = 100;
const tenMegabytes = `{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`;
type FaultName = string;
const faultCatalogue: Array<[FaultName, (status: number, afterApply: boolean) => Fault | 'refused' | undefined]> = [
  ['none', () => undefined],
  ['connection refused', () => 'refused'],
  ['reset before read', () => ({ reset: true })],
  ['reset after applying', () => ({ reset: true, afterApply: true })],
  ['timeout before applying', () => ({ delay: TIMEOUT_MS * 2.5 })],
  ['timeout after applying', () => ({ delay: TIMEOUT_MS * 2.5, afterApply: true })],
  ['5xx with JSON', (status, afterApply) => ({ status, afterApply, body: { error: 'internal', message: 'upstream failed' } })],
  ['5xx with HTML', (status, afterApply) => ({ status, afterApply, body: `<html><h1>${status}</h1></html>`, headers: { 'content-type': 'text/html' } })],
  ['5xx empty', (status, afterApply) => ({ status, afterApply })],
  ['429 Retry-After seconds', () => ({ status: 429, headers: { 'retry-after': '0' }, body: {} })],
  ['429 Retry-After date', () => ({ status: 429, headers: { 'retry-after': new Date(Date.now() + 1_000).toUTCString() }, body: {} })],
  ['429 without Retry-After', () => ({ status: 429, body: {} })],
  ['429 Retry-After 1e9', () => ({ status: 429, headers: { 'retry-after': '1000000000' }, body: {} })],
  ['2xx truncated JSON', () => ({ status: 200, afterApply: true, body: '{"ok":true,"conversion_id":"cv_', headers: { 'content-type': 'application/json' } })],
  ['2xx wrong content type', () => ({ headers: { 'content-type': 'text/html; charset=utf-8' } })],
  ['2xx off the schema', () => ({ status: 200, afterApply: true, body: { unexpected: 'shape' } })],
  ['2xx 10 MB body', () => ({ status: 200, afterApply: true, body: tenMegabytes, headers: { 'content-type': 'application/json' } })],
];

// ---- the plan: one conversion per refund, so the ledger judges each refund alone ------------
interface Plan {
  index: number;
  provider: ProviderName;
  conversionId: string;
  partial: boolean;
  callerKey: boolean;
  fault: FaultName;
  options: Omit<RefundOptions, 'provider'>;
}
const currencies = [
  ['USD', 12_000],
  ['EUR', 9_900],
  ['JPY', 15_000],
] as const;
const providers: ProviderName[] = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'];
const plans: Plan[] = [];
const seeds: Record<ProviderName, Array<{ id: string; sale: { value: number; currency: string }; lead?: { email: string } }>> = {
  affixo: [],
  affonso: [],
  refcampaign: [],
  firstpromoter: [],
};
const faults = new Map<number, Fault | 'refused'>();
for (let index = 0; index < total; index++) {
  const provider = pick(providers);
  const conversionId = `${provider}_${seed}_${index}`;
  const [currency, value] = pick(currencies);
  const lead = { email: `lead_${index}@example.com` };
  seeds[provider].push({ id: conversionId, sale: { value, currency }, ...(provider === 'firstpromoter' ? { lead } : {}) });
  // Affixo only reverses whole conversions; FirstPromoter always names the amount.
  const partial = provider !== 'affixo' && rng() < 0.5;
  const amount = { value: partial ? 1 + Math.floor(rng() * (value - 1)) : value, currency };
  const callerKey = rng() < 0.5 && !(provider === 'refcampaign' && partial);
  const [fault, make] = rng() < 0.3 ? faultCatalogue[0]! : pick(faultCatalogue.slice(1));
  const injected = make(pick([500, 502, 503, 504]), rng() < 0.5);
  if (injected) faults.set(index, injected);
  plans.push({
    index,
    provider,
    conversionId,
    partial,
    callerKey,
    fault,
    options: {
      conversionId,
      ...(partial || provider === 'firstpromoter' ? { amount } : {}),
      ...(provider === 'firstpromoter' ? { customer: lead } : {}),
      ...(callerKey ? { idempotencyKey: `chaos-${seed}-${index}` } : {}),
    },
  });
}

// ---- run ----------------------------------------------------------------------------------
const emulator = await startEmulator({
  seed: seeds,
  rateLimits: { affixo: false, affonso: false, refcampaign: false, firstpromoter: false },
});
const refusing = await (async () => {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
})();

let requestsSent = 0;
const counting: FetchFunction = (input, init) => {
  requestsSent += 1;
  return fetch(input, init);
};
/** For "connection refused": the first attempt goes to a port where nothing listens. */
const refusingOnce = (): FetchFunction => {
  let refused = false;
  return (input, init) => {
    if (refused) return counting(input, init);
    refused = true;
    const request = new Request(input, init);
    return counting(request.url.replace(emulator.url, refusing), init ?? { method: request.method, headers: request.headers, body: request.body });
  };
};
const settings = (provider: ProviderName, fetchFunction: FetchFunction) => ({
  apiKey: EMULATOR_API_KEYS[provider],
  baseURL: emulator.baseURLs[provider],
  fetch: fetchFunction,
  timeout: TIMEOUT_MS,
  rateLimit: false as const,
});
const createProvider = (provider: ProviderName, fetchFunction: FetchFunction): RefundProvider => {
  switch (provider) {
    case 'affixo':
      return createAffixo(settings(provider, fetchFunction));
    case 'affonso':
      return createAffonso(settings(provider, fetchFunction));
    case 'refcampaign':
      return createRefCampaign(settings(provider, fetchFunction));
    case 'firstpromoter':
      return createFirstPromoter({ ...settings(provider, fetchFunction), accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID });
  }
};
const shared = Object.fromEntries(providers.map((name) => [name, createProvider(name, counting)])) as Record<ProviderName, RefundProvider>;

interface Outcome {
  plan: Plan;
  ok: boolean;
  error?: ClawbackError;
  untyped?: unknown;
  userRetries: number;
}

async function run(plan: Plan): Promise<Outcome> {
  const fault = faults.get(plan.index);
  if (fault && fault !== 'refused') emulator.inject({ ...fault, provider: plan.provider, conversionId: plan.conversionId });
  const provider = fault === 'refused' ? createProvider(plan.provider, refusingOnce()) : shared[plan.provider];
  let options: Omit<RefundOptions, 'provider'> = plan.options;
  for (let userRetries = 0; ; userRetries++) {
    try {
      await refund({ provider, ...options } as RefundOptions);
      return { plan, ok: true, userRetries };
    } catch (error) {
      if (!ClawbackError.isInstance(error)) return { plan, ok: false, untyped: error, userRetries };
      if (!error.retryable || userRetries === 3) return { plan, ok: false, error, userRetries };
      // As documented: repeat the call with the key the error names (none for a RefCampaign partial refund).
      options = { ...options, idempotencyKey: error.idempotencyKey };
      const wait = RateLimitError.isInstance(error) ? Math.min(error.retryAfter ?? 50, 200) : 50;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

const started = performance.now();
const outcomes: Outcome[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(concurrency, total) }, async () => {
    while (next < plans.length) {
      const plan = plans[next++] as Plan;
      outcomes.push(await run(plan));
    }
  }),
);
const elapsed = (performance.now() - started) / 1000;
await emulator.close();
// Let the client side notice the closed connections before counting what is still open.
await new Promise((resolve) => setTimeout(resolve, 300));
const after = resourceCounts();

// ---- judge --------------------------------------------------------------------------------
const apiKeys = [...Object.values(EMULATOR_API_KEYS)];
let appliedTwice = 0;
let failedAppliedUnflagged = 0;
let reportedNotApplied = 0;
let untyped = 0;
let keyLeaks = 0;
let failedApplied = 0;
let failedNotApplied = 0;
let duplicatesWanted = 0;
for (const outcome of outcomes) {
  const applied = emulator.ledger.refunds({ provider: outcome.plan.provider, conversionId: outcome.plan.conversionId }).length;
  if (applied > 1) appliedTwice += 1;
  if (outcome.ok && applied === 0) reportedNotApplied += 1;
  if (outcome.untyped !== undefined) untyped += 1;
  if (outcome.userRetries > 0) duplicatesWanted += 1;
  if (outcome.error) {
    if (applied > 0) {
      failedApplied += 1;
      // An applied refund reported as failed must say so: ambiguous, so the caller reconciles.
      if (!outcome.error.ambiguous) failedAppliedUnflagged += 1;
    } else failedNotApplied += 1;
    const rendered = [outcome.error.message, outcome.error.stack, JSON.stringify(outcome.error), inspect(outcome.error, { showHidden: true, depth: 8 })].join('\n');
    if (apiKeys.some((key) => rendered.includes(key))) keyLeaks += 1;
  }
}
const opened = (name: string) => Math.max(0, (after[name] ?? 0) - (before[name] ?? 0));
const timersLeft = opened('Timeout') + opened('Immediate');
const socketsLeft = opened('TCPSocketWrap') + opened('TCPServerWrap');

const faultCounts = new Map<string, number>();
for (const plan of plans) faultCounts.set(plan.fault, (faultCounts.get(plan.fault) ?? 0) + 1);
const invariants: Array<[string, number]> = [
  ['refunds applied twice', appliedTwice],
  ['failed but applied, not flagged ambiguous', failedAppliedUnflagged],
  ['reported done but not applied', reportedNotApplied],
  ['untyped errors', untyped],
  ['unhandled rejections', unhandled.length],
  ['errors showing an API key', keyLeaks],
  ['timers left open', timersLeft],
  ['sockets left open', socketsLeft],
];
const line = (label: string, value: number | string) => console.log(`  ${label.padEnd(44, '.')} ${value}`);

console.log(`chaos campaign · seed ${seed} · ${total} refunds over 4 vendors · concurrency ${concurrency} · ${elapsed.toFixed(1)} s`);
console.log('faults injected');
for (const [name] of faultCatalogue) line(name, faultCounts.get(name) ?? 0);
console.log('what happened');
line('requests sent', requestsSent);
line('refunds applied (ledger)', emulator.ledger.refunds().length);
line('refunds reported done', outcomes.filter((outcome) => outcome.ok).length);
line('failed, not applied', failedNotApplied);
line('failed, applied (flagged ambiguous)', failedApplied - failedAppliedUnflagged);
line('calls repeated by the user after retryable', duplicatesWanted);
console.log('invariants (all must be 0)');
for (const [label, value] of invariants) line(label, value);

const broken = invariants.filter(([, value]) => value > 0);
// For the "N passed, N failed" line CI ends with: each invariant counts as one check.
mkdirSync('test-results', { recursive: true });
writeFileSync('test-results/chaos.json', JSON.stringify({ passed: invariants.length - broken.length, failed: broken.length }));
if (broken.length > 0) {
  console.error(`\nBROKEN: ${broken.map(([label]) => label).join(', ')} (reproduce with --seed ${seed} --refunds ${total})`);
  if (unhandled.length > 0) console.error(unhandled[0]);
  process.exit(1);
}
console.log(`\nchaos: ${total} refunds, 0 invariants broken`);
