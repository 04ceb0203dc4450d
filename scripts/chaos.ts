// `npm run chaos -- --seed N --refunds M [--concurrency C] [--sabotage]`: a reproducible fault
// campaign in one process (`--fleet` runs one across processes: scripts/chaos-fleet.ts).
// Refunds go through all four providers, by refund(), native calls and refundMany,
// against the emulator's real HTTP server on loopback with the emulator's rate limits on and
// clawback's client-side limits set under them. Each conversion gets one or several refunds
// (equal partial refunds with their own refund ids among them), some sent twice at once with
// the same key, some delivered again later; each request may be hit by a fault the seed picks,
// repeated across attempts: refused or reset connections, timeouts and trickling bodies before
// and after the refund is applied, 5xx with JSON/HTML/empty bodies, 429s of every kind,
// redirects to another host, compressed answers and compression bombs, keys echoed in JSON
// escapes, unreadable 2xx. The driver acts as a careful user: it repeats a failed call only
// when the error says `retryable`. The emulator's ledger is the judge. Exits 1 when an
// invariant breaks.
//
// `--sabotage` makes the driver (never the SDK) break each invariant on purpose, on a few
// refunds each: the campaign must then report every invariant broken. test/chaos.test.ts runs
// it, so no invariant printed here is one that cannot fail.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import {
  ClawbackError,
  RateLimitError,
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  refund,
  refundMany,
  type AffixoProvider,
  type AffonsoProvider,
  type FetchFunction,
  type FirstPromoterProvider,
  type ProviderName,
  type RefCampaignProvider,
  type RefundResult,
} from 'clawback';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, startEmulator, type Fault } from 'clawback/testing';
import { toMajorUnitsNumber } from '../src/core/money.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i++) {
  const name = process.argv[i]?.replace(/^--/, '') ?? '';
  const value = process.argv[i + 1];
  const isFlag = value === undefined || value.startsWith('--');
  args.set(name, isFlag ? 'true' : value);
  if (!isFlag) i += 1;
}
if (args.has('fleet')) {
  // The campaign across processes: scripts/chaos-fleet.ts.
  const { runFleet } = await import('./chaos-fleet.js');
  process.exit(await runFleet(args));
}
const seed = Number(args.get('seed') ?? 1);
const total = Number(args.get('refunds') ?? 2_000);
const concurrency = Number(args.get('concurrency') ?? 64);
const sabotage = args.has('sabotage');
if (![seed, total, concurrency].every(Number.isSafeInteger) || total < 1 || concurrency < 1) {
  console.error('usage: npm run chaos -- [--seed N] [--refunds N] [--concurrency N] [--sabotage]');
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
const chance = (p: number) => rng() < p;

const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));
const resourceCounts = () => {
  const counts: Record<string, number> = {};
  for (const name of process.getActiveResourcesInfo()) counts[name] = (counts[name] ?? 0) + 1;
  return counts;
};
const before = resourceCounts();

// ---- the faults ------------------------------------------------------------------------------
const TIMEOUT_MS = 150;
const apiKeys = Object.values(EMULATOR_API_KEYS);
// Encoded once: the emulator sends the same bytes for each fault that uses them.
const tenMegabytes = new TextEncoder().encode(`{"pad":"${'x'.repeat(10 * 1024 * 1024)}"}`);
// 64 MB of JSON whitespace, gzipped once to about 64 kB: an inflation bomb.
const bomb = new Uint8Array(gzipSync(Buffer.from(`{"ok":true,"success":true${' '.repeat(64 * 1024 * 1024)}}`)));
/** Every character of `text` as a JSON \u escape: how a vendor could echo a key past a text search. */
const escaped = (text: string) => [...text].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');

/** A fault for the emulator, or 'refused' (the first attempt goes to a port where nothing listens). */
type FaultSpec = Fault | 'refused' | undefined;
/** Stands for the redirect target's URL until it listens. */
const TRAP = 'http://trap.invalid';
const faultCatalogue: Array<[string, (vendor: ProviderName, status: number, afterApply: boolean) => FaultSpec]> = [
  ['none', () => undefined],
  ['connection refused', () => 'refused'],
  ['reset before read', () => ({ reset: true })],
  ['reset after applying', () => ({ reset: true, afterApply: true })],
  ['timeout before applying', () => ({ delay: TIMEOUT_MS * 2.5 })],
  ['timeout after applying', () => ({ delay: TIMEOUT_MS * 2.5, afterApply: true })],
  // The answer to a refund already applied, a few bytes at a time: past the timeout, or within it.
  ['body trickling in', (_, __, slow) => ({ afterApply: true, trickle: slow ? { bytes: 2, every: 40 } : { bytes: 64, every: 5 } })],
  ['5xx with JSON', (_, status, afterApply) => ({ status, afterApply, body: { error: 'internal', message: 'upstream failed' } })],
  ['5xx with HTML', (_, status, afterApply) => ({ status, afterApply, body: `<html><h1>${status}</h1></html>`, headers: { 'content-type': 'text/html' } })],
  ['5xx empty', (_, status, afterApply) => ({ status, afterApply })],
  ['429 Retry-After seconds', () => ({ status: 429, headers: { 'retry-after': '0' }, body: {} })],
  ['429 Retry-After date', () => ({ status: 429, headers: { 'retry-after': new Date(Date.now() + 1_000).toUTCString() }, body: {} })],
  ['429 without Retry-After', () => ({ status: 429, body: {} })],
  ['429 Retry-After 1e9', () => ({ status: 429, headers: { 'retry-after': '1000000000' }, body: {} })],
  ['redirect to another host', () => ({ status: pick([301, 302, 307]), headers: { location: `${TRAP}/steal` } })],
  ['answer gzip-compressed', () => ({ compress: 'gzip' })],
  ['2xx gzip bomb (64 MB inflated)', () => ({ status: 200, afterApply: true, body: bomb, headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' } })],
  ['401 echoing the key in JSON escapes', (vendor) => ({ status: 401, body: `{"error":"unauthorized","detail":"bad key ${escaped(EMULATOR_API_KEYS[vendor])}","message":"bad key ${escaped(EMULATOR_API_KEYS[vendor])}"}`, headers: { 'content-type': 'application/json' } })],
  ['2xx truncated JSON', () => ({ status: 200, afterApply: true, body: '{"ok":true,"conversion_id":"cv_', headers: { 'content-type': 'application/json' } })],
  ['2xx wrong content type', () => ({ headers: { 'content-type': 'text/html; charset=utf-8' } })],
  ['2xx off the schema', () => ({ status: 200, afterApply: true, body: { unexpected: 'shape' } })],
  ['2xx 10 MB body', () => ({ status: 200, afterApply: true, body: tenMegabytes, headers: { 'content-type': 'application/json' } })],
];

// ---- the plan: conversions, each with one or several refunds ------------------------------------
type Way = 'refund()' | 'native' | 'refundMany';
interface Op {
  index: number;
  vendor: ProviderName;
  conversionId: string;
  /** Minor units; undefined: the whole remaining balance. */
  amount?: number;
  currency: string;
  refundId: string;
  way: Way;
  fault: string;
  spec: FaultSpec;
  times: number;
  /** Sent twice at once with the same key. */
  race: boolean;
  /** Sent again once it succeeded (a redelivered webhook). */
  redeliver: boolean;
  sabotage?: Sabotage;
}
interface Group {
  vendor: ProviderName;
  conversionId: string;
  sale: { value: number; currency: string };
  ops: Op[];
}
const SABOTAGES = [
  'applied twice',
  'amount applied differs from the amount asked',
  'failed but applied, not flagged ambiguous',
  'reported done but not applied',
  'untyped errors',
  'unhandled rejections',
  'errors or results showing an API key',
  'requests that reached a redirect target',
  "429s from the emulator's own rate limit",
  'timers left open',
  'sockets left open',
] as const;
type Sabotage = (typeof SABOTAGES)[number];

const vendors: ProviderName[] = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'];
const currencies: Record<ProviderName, ReadonlyArray<readonly [string, number]>> = {
  affixo: [['USD', 12_000]],
  affonso: [['USD', 12_000], ['EUR', 9_900], ['JPY', 15_000], ['KWD', 45_250]],
  refcampaign: [['USD', 12_000], ['EUR', 9_900], ['JPY', 15_000], ['KWD', 45_250]],
  // FirstPromoter documents cents (and whole units for zero-decimal currencies), nothing else.
  firstpromoter: [['USD', 12_000], ['EUR', 9_900], ['JPY', 15_000]],
};
const groups: Group[] = [];
let opCount = 0;
const newOp = (group: Group, amount: number | undefined, refundId: string, ways: readonly Way[]): Op => {
  const [fault, make] = chance(0.3) ? faultCatalogue[0]! : pick(faultCatalogue.slice(1));
  const afterApply = chance(0.5);
  const op: Op = {
    index: opCount++,
    vendor: group.vendor,
    conversionId: group.conversionId,
    ...(amount === undefined ? {} : { amount }),
    currency: group.sale.currency,
    refundId,
    way: pick(ways),
    fault,
    spec: make(group.vendor, pick([500, 502, 503, 504]), afterApply),
    times: pick([1, 1, 2, 3]),
    race: chance(0.08),
    redeliver: chance(0.1),
  };
  group.ops.push(op);
  return op;
};
while (opCount < total) {
  const vendor = pick(vendors);
  const [currency, value] = pick(currencies[vendor]);
  const group: Group = { vendor, conversionId: `${vendor}_${seed}_${groups.length}`, sale: { value, currency }, ops: [] };
  const id = (n: number) => `re_${seed}_${groups.length}_${n}`;
  const partials = (count: number) => {
    // Equal amounts on purpose in half the groups: two $10 refunds of one order are two refunds.
    const each = Math.max(1, Math.floor((value * (0.1 + rng() * 0.2)) / 1));
    const equal = chance(0.5);
    for (let n = 0; n < count; n++) newOp(group, equal ? each : 1 + Math.floor(rng() * each), id(n), ['refund()', 'native', 'refundMany']);
  };
  if (vendor === 'affixo') newOp(group, undefined, id(0), ['refund()', 'native', 'refundMany']);
  else if (vendor === 'refcampaign') {
    // A partial refund carries no key, so it goes alone, by refund(), and is never repeated.
    if (chance(0.3)) newOp(group, 1 + Math.floor(rng() * (value - 1)), id(0), ['refund()']).race = false;
    else newOp(group, undefined, id(0), ['refund()', 'native', 'refundMany']);
  } else if (vendor === 'affonso') {
    partials(1 + Math.floor(rng() * 3));
    if (chance(0.3)) newOp(group, undefined, id(9), ['refund()', 'native', 'refundMany']);
  } else partials(1 + Math.floor(rng() * 3));
  for (const op of group.ops) if (op.vendor === 'refcampaign' && op.amount !== undefined) op.redeliver = op.race = false;
  groups.push(group);
}
const ops = groups.flatMap((group) => group.ops);
if (sabotage) {
  // Each sabotage on three refunds of a vendor it can show up on, spread over the campaign.
  const suited: Record<Sabotage, (op: Op) => boolean> = {
    'applied twice': (op) => op.vendor === 'affonso' && op.amount !== undefined,
    'amount applied differs from the amount asked': (op) => op.vendor === 'affonso' && op.amount !== undefined,
    'failed but applied, not flagged ambiguous': (op) => op.vendor === 'firstpromoter',
    'reported done but not applied': (op) => op.vendor === 'affixo',
    'untyped errors': () => true,
    'unhandled rejections': () => true,
    'errors or results showing an API key': () => true,
    'requests that reached a redirect target': (op) => op.vendor === 'affonso',
    "429s from the emulator's own rate limit": (op) => op.vendor === 'affixo',
    'timers left open': () => true,
    'sockets left open': () => true,
  };
  // On the first refund of a conversion, so no fault left over from an earlier one is queued
  // ahead of what the sabotage sets up.
  const firsts = new Set(groups.map((group) => group.ops[0]));
  for (const name of SABOTAGES) {
    for (const op of ops.filter((candidate) => firsts.has(candidate) && !candidate.sabotage && suited[name](candidate)).slice(0, 3)) {
      op.sabotage = name;
      op.spec = undefined;
      op.fault = 'none';
      op.race = op.redeliver = false;
    }
  }
}

// ---- the vendor, its redirect target, and the providers -----------------------------------------
const emulatorLimit = { limit: 100, interval: 1_000 };
const clientLimit = { limit: 90, interval: 1_000 };
const seeds = Object.fromEntries(vendors.map((vendor) => [vendor, [] as unknown[]])) as Record<ProviderName, Array<{ id: string; sale: { value: number; currency: string }; lead?: { email: string } }>>;
for (const group of groups) {
  seeds[group.vendor].push({ id: group.conversionId, sale: group.sale, ...(group.vendor === 'firstpromoter' ? { lead: { email: `${group.conversionId}@example.com` } } : {}) });
}
const emulator = await startEmulator({ seed: seeds, rateLimits: Object.fromEntries(vendors.map((vendor) => [vendor, emulatorLimit])) });
const redirectTarget = { hits: 0 };
const trap = createHttpServer((request, response) => {
  redirectTarget.hits += 1;
  request.resume();
  response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true,"success":true,"data":{"id":"x","status":"refunded","sales_status":"refunded"}}');
});
await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
const trapURL = `http://127.0.0.1:${(trap.address() as { port: number }).port}`;
const refusing = await (async () => {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
})();

// One fetch under every provider, so each request can be routed by the fault or sabotage its
// conversion has waiting: a refused connection, or (sabotage) a middlebox that lies or follows
// redirects. It finds the conversion in the path or the body, as the vendors do.
const conversionOf = (url: string, body: string): string | undefined =>
  /conversions\/([^/]+)\/refund/.exec(url)?.[1] ?? /"(?:external_id|externalId|sale_event_id)":"([^"]+)"/.exec(body)?.[1];
const refuseNext = new Set<string>();
const rigged = new Map<string, Sabotage>();
let requestsSent = 0;
const chaosFetch: FetchFunction = async (input, init) => {
  requestsSent += 1;
  const url = input instanceof Request ? input.url : String(input);
  const body = typeof init?.body === 'string' ? init.body : '';
  const conversion = conversionOf(url, body);
  if (conversion && refuseNext.delete(conversion)) return fetch(url.replace(emulator.url, refusing), init);
  const rig = conversion ? rigged.get(conversion) : undefined;
  if (rig === 'reported done but not applied') return Response.json({ ok: true, conversion_id: 'cv_fake' });
  if (rig === 'requests that reached a redirect target') {
    const response = await fetch(input, init);
    const location = response.headers.get('location');
    return location ? fetch(location, { ...init, redirect: 'follow' }) : response;
  }
  const response = await fetch(input, init);
  // A middlebox that turns the vendor's 5xx into a 400 makes any SDK misjudge an applied refund.
  if (rig === 'failed but applied, not flagged ambiguous' && response.status >= 500) return new Response('{"message":"Error. Amount blank or invalid."}', { status: 400 });
  return response;
};
interface Providers {
  affixo: AffixoProvider;
  affonso: AffonsoProvider;
  refcampaign: RefCampaignProvider;
  firstpromoter: FirstPromoterProvider;
}
const providersWith = (settings: object): Providers => {
  const base = (vendor: ProviderName) => ({ apiKey: EMULATOR_API_KEYS[vendor], baseURL: emulator.baseURLs[vendor], fetch: chaosFetch, timeout: TIMEOUT_MS, ...settings });
  return {
    affixo: createAffixo(base('affixo')),
    affonso: createAffonso(base('affonso')),
    refcampaign: createRefCampaign(base('refcampaign')),
    firstpromoter: createFirstPromoter({ ...base('firstpromoter'), accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID }),
  };
};
const providers = providersWith({ rateLimit: clientLimit });

// ---- the driver: a careful user ------------------------------------------------------------------
interface Attempted {
  op: Op;
  ok: boolean;
  result?: RefundResult | { duplicate: boolean };
  error?: ClawbackError;
  untyped?: unknown;
  /** The keys this op's calls used (the ledger records them for Affonso and FirstPromoter). */
  keys: Set<string>;
  /** Some error along the way (not only the last) said the refund may have been applied. */
  toldAmbiguous: boolean;
  userRetries: number;
}

/** One call of the op, the way it is made; resolves to what a caller would record. */
async function callOnce(op: Op, key: string | undefined): Promise<{ result?: RefundResult | { duplicate: boolean }; key?: string }> {
  const amount = op.amount === undefined ? undefined : { value: op.amount + (op.sabotage === 'amount applied differs from the amount asked' ? 1 : 0), currency: op.currency };
  const customer = op.vendor === 'firstpromoter' ? { email: `${op.conversionId}@example.com` } : undefined;
  const rcPartial = op.vendor === 'refcampaign' && amount !== undefined;
  if (op.way === 'native') {
    switch (op.vendor) {
      case 'affixo':
        await providers.affixo.track.refund({ external_id: op.conversionId });
        return { result: { duplicate: false } };
      case 'refcampaign':
        return { result: { duplicate: (await providers.refcampaign.conversions.refund({ externalId: op.conversionId }))?.data?.alreadyRefunded === true } };
      case 'affonso': {
        const major = amount && toMajorUnitsNumber(amount.value, amount.currency);
        const conversion = await providers.affonso.conversions.refund(op.conversionId, {
          ...(amount ? { amount: major as number, currency: amount.currency } : {}),
          external_event_id: key ?? op.refundId,
        });
        return { result: { duplicate: conversion.replayed === true }, key: key ?? op.refundId };
      }
      case 'firstpromoter': {
        const eventId = key ?? op.refundId;
        try {
          await providers.firstpromoter.track.refund({ event_id: eventId, amount: String(amount?.value), currency: op.currency, sale_event_id: op.conversionId, ...customer! });
          return { result: { duplicate: false }, key: eventId };
        } catch (error) {
          // 409 naming this event_id: a replay, as refund() reports it.
          if (ClawbackError.isInstance(error) && error.status === 409 && String((error.body as { message?: string })?.message).includes(`'${eventId}'`)) return { result: { duplicate: true }, key: eventId };
          throw error;
        }
      }
    }
  }
  const options = {
    provider: providers[op.vendor],
    conversionId: op.conversionId,
    ...(amount ? { amount } : {}),
    ...(customer ? { customer } : {}),
  };
  if (op.way === 'refundMany') {
    const [outcome] = await refundMany([{ ...options, ...(key ? { idempotencyKey: key } : { refundId: op.refundId }) } as never]);
    if (!outcome) throw new Error('refundMany returned no outcome');
    if (!outcome.ok) throw outcome.error;
    return { result: outcome.result, key: outcome.result.idempotencyKey };
  }
  const result = await refund({ ...options, ...(rcPartial ? {} : { idempotencyKey: key ?? op.refundId }) } as never);
  return { result, key: result.idempotencyKey };
}

async function run(op: Op): Promise<Attempted[]> {
  const spec = op.spec;
  if (spec === 'refused') refuseNext.add(op.conversionId);
  else if (spec) {
    const location = spec.headers?.location?.replace(TRAP, trapURL);
    emulator.inject({ ...spec, ...(location ? { headers: { ...spec.headers, location } } : {}), provider: op.vendor, conversionId: op.conversionId, times: op.times });
  }
  // Repeated, as the campaign's faults are: an attempt that times out is retried, and the retry
  // must meet the same fault.
  if (op.sabotage === 'requests that reached a redirect target') {
    emulator.inject({ provider: op.vendor, conversionId: op.conversionId, times: 3, status: 302, headers: { location: `${trapURL}/steal` } });
  }
  if (op.sabotage === 'failed but applied, not flagged ambiguous') emulator.inject({ provider: op.vendor, conversionId: op.conversionId, times: 3, status: 500, afterApply: true });
  if (op.sabotage) rigged.set(op.conversionId, op.sabotage);

  const attempt = async (): Promise<Attempted> => {
    const attempted: Attempted = { op, ok: false, keys: new Set(), userRetries: 0, toldAmbiguous: false };
    let key: string | undefined;
    for (;;) {
      try {
        if (op.sabotage === 'untyped errors') throw new Error('sabotage: a plain Error, as a bug in the caller would throw');
        const { result, key: used } = await callOnce(op, key);
        if (used) attempted.keys.add(used);
        attempted.ok = true;
        if (result) attempted.result = result;
        return attempted;
      } catch (error) {
        if (!ClawbackError.isInstance(error)) {
          attempted.untyped = error;
          return attempted;
        }
        if (error.idempotencyKey) attempted.keys.add(error.idempotencyKey);
        attempted.error = error;
        if (error.ambiguous) attempted.toldAmbiguous = true;
        if (!error.retryable || attempted.userRetries === 3) return attempted;
        // As documented: repeat the call with the key the error names (none for a RefCampaign partial refund).
        key = error.idempotencyKey;
        attempted.userRetries += 1;
        const wait = RateLimitError.isInstance(error) ? Math.min(error.retryAfter ?? 50, 200) : 50;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  };
  const outcomes = await Promise.all(op.race ? [attempt(), attempt()] : [attempt()]);
  if (op.redeliver && outcomes.every((outcome) => outcome.ok)) outcomes.push(await attempt());
  if (op.sabotage === 'applied twice' && outcomes[0]?.ok && op.amount !== undefined) {
    // A careless caller repeats a refund that went through, under a fresh key.
    const key = `${op.refundId}-again`;
    outcomes[0].keys.add(key);
    await refund({ provider: providers.affonso, conversionId: op.conversionId, amount: { value: op.amount, currency: op.currency }, idempotencyKey: key }).catch(() => undefined);
  }
  if (op.sabotage === 'errors or results showing an API key') {
    const leaked = outcomes[0]!;
    leaked.error = new ClawbackError(`sabotage: a caller logs the key ${EMULATOR_API_KEYS[op.vendor]}`);
    leaked.ok = false;
  }
  if (op.sabotage === 'unhandled rejections') void Promise.reject(new Error('sabotage: a rejection nobody handles'));
  return outcomes;
}

// Sabotages outside the refunds themselves: a burst past the emulator's limit with the client
// limit off, a timer and a socket left open.
const strays: { timer?: ReturnType<typeof setTimeout>; socket?: Socket; server?: Server } = {};
async function sabotageOutsideRefunds() {
  if (!sabotage) return;
  const target = ops.find((op) => op.sabotage === "429s from the emulator's own rate limit");
  if (target) {
    const unlimited = providersWith({ rateLimit: false });
    await Promise.all(Array.from({ length: 300 }, () => unlimited.affixo.track.refund({ external_id: target.conversionId }).catch(() => undefined)));
  }
  strays.timer = setTimeout(() => undefined, 3_600_000);
  strays.server = createServer((socket) => socket.on('error', () => undefined));
  await new Promise<void>((resolve) => strays.server!.listen(0, '127.0.0.1', resolve));
  strays.socket = connect((strays.server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((resolve) => strays.socket!.once('connect', resolve));
}

// Memory from here on: the 64 MB string the bomb is made from is behind us.
const rssBefore = process.memoryUsage().rss;
let peakRss = rssBefore;
const rssProbe = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const started = performance.now();
const attempts: Attempted[] = [];
let next = 0;
await Promise.all(
  Array.from({ length: Math.min(concurrency, groups.length) }, async () => {
    while (next < groups.length) {
      const group = groups[next++] as Group;
      // A conversion's refunds in order, as a processor sends them; conversions side by side.
      for (const op of group.ops) attempts.push(...(await run(op)));
    }
  }),
);
await sabotageOutsideRefunds();
const elapsed = (performance.now() - started) / 1000;
await emulator.close();
await new Promise<void>((resolve) => trap.close(() => resolve()));
// Let the client side notice the closed connections before counting what is still open.
await new Promise((resolve) => setTimeout(resolve, 300));
clearInterval(rssProbe);
const after = resourceCounts();

// ---- judge -------------------------------------------------------------------------------------
const keyed = (vendor: ProviderName) => vendor === 'affonso' || vendor === 'firstpromoter';
const byOp = new Map<Op, Attempted[]>();
for (const attempted of attempts) byOp.set(attempted.op, [...(byOp.get(attempted.op) ?? []), attempted]);
const broken = Object.fromEntries(SABOTAGES.map((name) => [name, 0])) as Record<Sabotage, number>;
/** The refunds behind a broken invariant, described for the report (the first few of each). */
const culprits: string[] = [];
const blame = (name: Sabotage, op: Op, outcomes: Attempted[], entries: unknown[]) => {
  broken[name] += 1;
  if (culprits.filter((line) => line.startsWith(name)).length >= 3) return;
  const { spec: _spec, ...shown } = op;
  const described = outcomes.map((outcome) =>
    outcome.ok ? `ok${outcome.result?.duplicate ? ' (duplicate)' : ''}` : `${outcome.error?.name} ambiguous=${outcome.error?.ambiguous} retryable=${outcome.error?.retryable} userRetries=${outcome.userRetries}: ${outcome.error?.message}`,
  );
  culprits.push(`${name}: ${JSON.stringify(shown)}\n    outcomes: ${described.join('\n              ')}\n    ledger: ${JSON.stringify(entries)}`);
};
let failedApplied = 0;
let failedNotApplied = 0;
let replays = 0;
let done = 0;
for (const group of groups) {
  const ledger = emulator.ledger.refunds({ provider: group.vendor, conversionId: group.conversionId });
  const claimed = new Set<unknown>();
  let refundedBefore = 0;
  for (const op of group.ops) {
    const outcomes = byOp.get(op) ?? [];
    const keys = new Set(outcomes.flatMap((outcome) => [...outcome.keys]));
    // This op's entries: by key where the vendor takes one, else the conversion's (one op each).
    const entries = keyed(op.vendor) ? ledger.filter((entry) => entry.idempotencyKey !== undefined && keys.has(entry.idempotencyKey)) : ledger.filter((entry) => !claimed.has(entry));
    for (const entry of entries) claimed.add(entry);
    const applied = entries.reduce((sum, entry) => sum + entry.amount, 0);
    if (entries.length > 1) blame('applied twice', op, outcomes, entries);
    const asked = op.amount ?? group.sale.value - refundedBefore;
    if (entries.length > 0 && applied !== asked * entries.length) blame('amount applied differs from the amount asked', op, outcomes, entries);
    refundedBefore += applied;
    const succeeded = outcomes.some((outcome) => outcome.ok);
    if (succeeded) done += 1;
    replays += outcomes.filter((outcome) => outcome.ok && outcome.result?.duplicate).length;
    if (succeeded && entries.length === 0) blame('reported done but not applied', op, outcomes, entries);
    for (const outcome of outcomes) if (outcome.untyped !== undefined) blame('untyped errors', op, outcomes, entries);
    const failure = !succeeded ? outcomes.find((outcome) => outcome.error)?.error : undefined;
    if (failure) {
      if (entries.length > 0) {
        failedApplied += 1;
        // An applied refund reported as failed must say so: some error the caller saw on the way
        // was ambiguous, so the caller reconciles.
        if (!outcomes.some((outcome) => outcome.toldAmbiguous)) blame('failed but applied, not flagged ambiguous', op, outcomes, entries);
      } else failedNotApplied += 1;
    }
    for (const outcome of outcomes) {
      const shown = [
        outcome.error && [outcome.error.message, outcome.error.stack, JSON.stringify(outcome.error), inspect(outcome.error, { showHidden: true, depth: 8 })].join('\n'),
        outcome.result && JSON.stringify(outcome.result),
      ].join('\n');
      if (apiKeys.some((key) => shown.includes(key))) blame('errors or results showing an API key', op, outcomes, entries);
    }
  }
  // Whatever the attribution, a conversion is never refunded more than its sale.
  if (ledger.reduce((sum, entry) => sum + entry.amount, 0) > group.sale.value) broken['applied twice'] += 1;
}
broken['unhandled rejections'] = unhandled.length;
broken['requests that reached a redirect target'] = redirectTarget.hits;
broken["429s from the emulator's own rate limit"] = Object.values(emulator.emulator.counts.rateLimited).reduce((a, b) => a + b, 0);
const opened = (name: string) => Math.max(0, (after[name] ?? 0) - (before[name] ?? 0));
broken['timers left open'] = opened('Timeout') + opened('Immediate');
broken['sockets left open'] = opened('TCPSocketWrap') + opened('TCPServerWrap');
strays.socket?.destroy();
strays.server?.close();
clearTimeout(strays.timer);

const faultCounts = new Map<string, number>();
for (const op of ops) faultCounts.set(op.fault, (faultCounts.get(op.fault) ?? 0) + 1);
const line = (label: string, value: number | string) => console.log(`  ${label.padEnd(48, '.')} ${value}`);
console.log(
  `chaos campaign · seed ${seed} · ${ops.length} refunds of ${groups.length} conversions over 4 vendors · concurrency ${concurrency} · ${elapsed.toFixed(1)} s${sabotage ? ' · SABOTAGED' : ''}`,
);
console.log('faults injected (each may repeat across attempts)');
for (const [name] of faultCatalogue) line(name, faultCounts.get(name) ?? 0);
console.log('the mix');
line('by refund() / native call / refundMany', ['refund()', 'native', 'refundMany'].map((way) => ops.filter((op) => op.way === way).length).join(' / '));
line('conversions with several refunds', groups.filter((group) => group.ops.length > 1).length);
line('  of which with equal partial refunds', groups.filter((group) => new Set(group.ops.map((op) => op.amount)).size < group.ops.length).length);
line('sent twice at once with the same key', ops.filter((op) => op.race).length);
line('delivered again after succeeding', ops.filter((op) => op.redeliver).length);
console.log('what happened');
line('requests sent', requestsSent);
line("429s from injected faults (the emulator's own: below)", ops.filter((op) => op.fault.startsWith('429')).length);
line('refunds applied (ledger)', emulator.ledger.refunds().length);
line('refunds reported done', done);
line('replays reported as duplicates', replays);
line('failed, not applied', failedNotApplied);
line('failed, applied (flagged ambiguous)', failedApplied - broken['failed but applied, not flagged ambiguous']);
line('peak RSS during the run (emulator included)', `${Math.round(peakRss / 1_048_576)} MB, from ${Math.round(rssBefore / 1_048_576)} MB`);
console.log('invariants (all must be 0)');
for (const name of SABOTAGES) line(name, broken[name]);

const failed = SABOTAGES.filter((name) => broken[name] > 0);
// For the "N passed, N failed" line CI ends with: each invariant counts as one check.
if (!sabotage) {
  mkdirSync('test-results', { recursive: true });
  writeFileSync('test-results/chaos.json', JSON.stringify({ passed: SABOTAGES.length - failed.length, failed: failed.length }));
}
if (failed.length > 0) {
  console.error(`\nBROKEN: ${failed.join(', ')} (reproduce with --seed ${seed} --refunds ${total}${sabotage ? ' --sabotage' : ''})`);
  if (!sabotage) for (const line of culprits) console.error(line);
  if (unhandled.length > 0 && !sabotage) console.error(unhandled[0]);
  process.exit(1);
}
console.log(`\nchaos: ${ops.length} refunds, 0 invariants broken`);
