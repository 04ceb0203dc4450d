/**
 * `clawback/redis`: the refund ledger and the rate budget a fleet shares, on Redis, through an
 * ioredis client (the one BullMQ uses): `createAffonso({ ledger: redisLedger(redis),
 * rateLimitStore: redisRateLimitStore(redis) })`. Every decision is one Lua script, so it is atomic
 * on Redis and timed by Redis's own clock (TIME), whichever process runs it.
 *
 * Redis keeps a ledger only as well as it persists: run it with `appendonly yes` (and
 * `appendfsync everysec` or `always`), or a restart forgets refunds already applied. PostgreSQL
 * (`clawback/postgres`) commits every record before answering; see docs/fleet.md.
 */
import {
  DEFAULT_RETENTION_MS,
  DIED_WHILE_SENDING,
  defineLedger,
  ledgerId,
  parseLedgerId,
  refusedSettlement,
  settledResult,
  type Claim,
  type LedgerEntry,
  type LedgerListFilter,
  type LedgerStore,
  type RefundLedger,
} from '../core/ledger.js';
import { withLocalFallback, type RateLimitStore, type Take } from '../core/rate-limiter.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

/**
 * The part of an ioredis client clawback uses (ioredis 5 or 6, or anything alike). `status` and
 * the `ready`/`end` events are read so that a command is issued only once the client is
 * connected: ioredis would hold it in its offline queue until it reconnects (and setups for
 * BullMQ retry for ever), and a ledger claim run after its call gave up would show a refund
 * never sent as maybe sent.
 */
export interface RedisClientLike {
  readonly status?: string;
  /** Sends one Redis command (ioredis's `call`). */
  call(command: string, ...args: (string | number)[]): Promise<unknown>;
  /** Listens once for the client connecting or closing, so a command waits for a connecting client only within its deadline. */
  once?(event: 'ready' | 'end', listener: () => void): unknown;
  /** Stops listening (see `once`). */
  removeListener?(event: 'ready' | 'end', listener: () => void): unknown;
}

/** `redisLedger(redis, options)`'s options: the key `prefix` (with a hash tag on Redis Cluster) and `retentionMs`. */
export interface RedisLedgerOptions {
  /** Default 30 days: longer than Stripe's three days of redeliveries and Affonso's 48 hours. */
  retentionMs?: number;
  /**
   * Prepended to every key (default `clawback:`), so deploys sharing a Redis do not collide. On
   * Redis Cluster, give it a hash tag (`{clawback}:`), so every key lives in one slot, as BullMQ asks.
   */
  prefix?: string;
}

/** One wait for `ready` per client, however many commands wait on it (one listener, not one each). */
const readiness = new WeakMap<RedisClientLike, Promise<void>>();

/** Resolves when the client is connected, waiting at most `ms` (a client still connecting, or reconnecting). */
function whenReady(redis: RedisClientLike, ms: number): Promise<void> {
  if (redis.status === undefined || redis.status === 'ready') return Promise.resolve();
  if (redis.status === 'end' || !redis.once || ms <= 0) return Promise.reject(new Error(`Redis is not connected (${redis.status})`));
  let ready = readiness.get(redis);
  if (!ready) {
    ready = new Promise<void>((resolve, reject) => {
      const settle = (error?: Error) => {
        redis.removeListener?.('ready', onReady);
        redis.removeListener?.('end', onEnd);
        readiness.delete(redis);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => settle();
      const onEnd = () => settle(new Error('Redis is not connected (end)'));
      redis.once?.('ready', onReady);
      redis.once?.('end', onEnd);
    });
    ready.catch(() => {});
    readiness.set(redis, ready);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis is not connected (${redis.status}, for ${Math.round(ms)} ms)`)), Math.ceil(ms));
  });
  return Promise.race([ready, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The client, issuing each command only once connected, and only if that happens within `ms`:
 * never a command queued to run after its caller gave up.
 */
function connected(redis: RedisClientLike, ms: number): RedisClientLike {
  return {
    async call(command, ...args) {
      await whenReady(redis, ms);
      return redis.call(command, ...args);
    },
  };
}

/** How long an operator's command (list, get, resolve) waits for a client still connecting. */
const OPERATOR_WAIT_MS = 5_000;

/** Runs a script by its SHA1, loading it first (and again after a Redis restart forgot it). */
function script(source: string) {
  let sha: string | undefined;
  return async (redis: RedisClientLike, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> => {
    sha ??= String(await redis.call('SCRIPT', 'LOAD', source));
    try {
      return await redis.call('EVALSHA', sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!/NOSCRIPT/.test(String((error as Error)?.message))) throw error;
      sha = String(await redis.call('SCRIPT', 'LOAD', source));
      return redis.call('EVALSHA', sha, keys.length, ...keys, ...args);
    }
  };
}

// Shared by the ledger's scripts: Redis's clock in milliseconds, and the entry as a reply.
const LUA_NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * `decideClaim` in Lua. KEYS: entry, index. ARGV: holder, leaseMs, deadline, dedupes (1/0),
 * conversionId, amount (JSON or ''), retentionMs, id, provider, account, idempotencyKey, and why
 * a dead holder's entry is ambiguous.
 */
const CLAIM = `${LUA_NOW}
if now > tonumber(ARGV[3]) then return {'late'} end
local state = redis.call('HGET', KEYS[1], 'state')
local function hold(attempts, createdAt, error)
  redis.call('DEL', KEYS[1])
  if error then redis.call('HSET', KEYS[1], 'error', error) end
  redis.call('HSET', KEYS[1], 'state', 'in_flight', 'holder', ARGV[1], 'leaseUntil', now + tonumber(ARGV[2]),
    'attempts', attempts, 'createdAt', createdAt, 'updatedAt', now, 'expiresAt', now + tonumber(ARGV[7]),
    'conversionId', ARGV[5], 'amount', ARGV[6], 'provider', ARGV[9], 'account', ARGV[10], 'idempotencyKey', ARGV[11])
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  redis.call('ZADD', KEYS[2], now, ARGV[8])
end
if not state then
  hold(1, now)
  return {'claimed'}
end
if state == 'applied' then return {'applied', redis.call('HGETALL', KEYS[1])} end
local lease = tonumber(redis.call('HGET', KEYS[1], 'leaseUntil') or '0')
if state == 'in_flight' and lease > now then return {'busy', tostring(lease - now)} end
if ARGV[4] == '1' then
  -- Taken over: why an earlier send may have applied it is kept, for when this one does not send.
  hold(tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0') + 1, redis.call('HGET', KEYS[1], 'createdAt') or now,
    redis.call('HGET', KEYS[1], 'error') or ARGV[12])
  return {'claimed', state}
end
if state == 'in_flight' then
  redis.call('HSET', KEYS[1], 'state', 'ambiguous', 'error', ARGV[12],
    'updatedAt', now, 'expiresAt', now + tonumber(ARGV[7]))
  redis.call('HDEL', KEYS[1], 'holder', 'leaseUntil')
  redis.call('PEXPIRE', KEYS[1], ARGV[7])
  redis.call('ZADD', KEYS[2], now, ARGV[8])
end
return {'ambiguous', redis.call('HGETALL', KEYS[1])}`;

/** `decideRecord` in Lua. KEYS: entry, index. ARGV: holder, state, result or error, retentionMs, deadline, id, and why a dead holder's entry is ambiguous. */
const RECORD = `${LUA_NOW}
if now > tonumber(ARGV[5]) then return 0 end
if redis.call('HGET', KEYS[1], 'state') ~= 'in_flight' or redis.call('HGET', KEYS[1], 'holder') ~= ARGV[1] then return 0 end
local state, payload = ARGV[2], ARGV[3]
if state == 'not_applied' then
  -- Released only when no earlier send of the key exists; else back to ambiguous.
  if tonumber(redis.call('HGET', KEYS[1], 'attempts') or '1') <= 1 then
    redis.call('DEL', KEYS[1])
    redis.call('ZREM', KEYS[2], ARGV[6])
    return 1
  end
  state, payload = 'ambiguous', redis.call('HGET', KEYS[1], 'error') or ARGV[7]
end
redis.call('HDEL', KEYS[1], 'holder', 'leaseUntil', 'error', 'result')
redis.call('HSET', KEYS[1], 'state', state, state == 'applied' and 'result' or 'error', payload, 'updatedAt', now, 'expiresAt', now + tonumber(ARGV[4]))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('ZADD', KEYS[2], now, ARGV[6])
return 1`;

/** `decideResolve` in Lua. KEYS: entry, index. ARGV: outcome, settled result (JSON), retentionMs, id. */
const RESOLVE = `${LUA_NOW}
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {'refused', 'none'} end
if state == 'applied' then return {'refused', 'applied'} end
local lease = tonumber(redis.call('HGET', KEYS[1], 'leaseUntil') or '0')
if state == 'in_flight' and lease > now then return {'refused', 'busy', tostring(lease - now)} end
if ARGV[1] == 'not_applied' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREM', KEYS[2], ARGV[4])
  return {'removed'}
end
redis.call('HDEL', KEYS[1], 'holder', 'leaseUntil', 'error')
redis.call('HSET', KEYS[1], 'state', 'applied', 'result', ARGV[2], 'updatedAt', now, 'expiresAt', now + tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('ZADD', KEYS[2], now, ARGV[4])
return {'applied'}`;

const claimScript = script(CLAIM);
const recordScript = script(RECORD);
const resolveScript = script(RESOLVE);

/** An entry from the flat field/value list HGETALL gives. */
function entryFrom(fields: unknown, id: string): LedgerEntry | undefined {
  if (!Array.isArray(fields) || fields.length === 0) return undefined;
  const hash: Record<string, string> = {};
  for (let index = 0; index < fields.length; index += 2) hash[String(fields[index])] = String(fields[index + 1]);
  const number = (name: string) => (hash[name] === undefined ? undefined : Number(hash[name]));
  const json = (name: string) => (hash[name] ? JSON.parse(hash[name] as string) : undefined);
  return {
    id,
    provider: hash.provider as ProviderName,
    account: hash.account as string,
    idempotencyKey: hash.idempotencyKey as string,
    state: hash.state as LedgerEntry['state'],
    conversionId: hash.conversionId as string,
    amount: json('amount'),
    result: json('result'),
    error: hash.error,
    holder: hash.holder,
    leaseUntil: number('leaseUntil'),
    attempts: number('attempts') ?? 0,
    createdAt: number('createdAt') ?? 0,
    updatedAt: number('updatedAt') ?? 0,
    expiresAt: number('expiresAt') ?? 0,
  };
}

/**
 * The refund ledger on Redis. One hash per entry (`<prefix>ledger:<id>`), expiring `retentionMs`
 * after its last change, and a sorted set of ids by last change (`<prefix>ledger:index`) for
 * `list`. Claims, records and settlements are Lua scripts applying `decideClaim`,
 * `decideRecord` and `decideResolve` atomically.
 */
export function redisLedger(redis: RedisClientLike, options: RedisLedgerOptions = {}): RefundLedger {
  // A claim or record waits for a connecting client no longer than its deadline (which the
  // script checks again, on Redis's clock); an operator's command, a few seconds.
  const until = (deadline: number) => connected(redis, deadline - Date.now());
  const client = connected(redis, OPERATOR_WAIT_MS);
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  const prefix = options.prefix ?? 'clawback:';
  const index = `${prefix}ledger:index`;
  const entryKey = (id: string) => `${prefix}ledger:${id}`;
  const get = async (id: string) => entryFrom(await client.call('HGETALL', entryKey(id)), id);

  const store: LedgerStore = {
    retentionMs,
    async claim(key, request): Promise<Claim> {
      const id = ledgerId(key);
      const reply = (await claimScript(until(request.deadline), [entryKey(id), index], [
        request.holder,
        Math.ceil(request.leaseMs),
        Math.floor(request.deadline),
        request.dedupes ? 1 : 0,
        request.conversionId,
        request.amount ? JSON.stringify(request.amount) : '',
        retentionMs,
        id,
        key.provider,
        key.account,
        key.idempotencyKey,
        DIED_WHILE_SENDING,
      ])) as [string, unknown?];
      const [outcome, detail] = reply;
      if (outcome === 'claimed') return { outcome, ...(detail ? { retake: detail as 'in_flight' | 'ambiguous' } : {}) };
      if (outcome === 'busy') return { outcome, retryIn: Number(detail) };
      if (outcome === 'applied' || outcome === 'ambiguous') return { outcome, entry: entryFrom(detail, id) as LedgerEntry };
      // Not to be mistaken for a decision (a script of another version, say).
      if (outcome !== 'late') throw new Error(`unexpected reply from the ledger's claim script: ${JSON.stringify(reply)}`);
      return { outcome };
    },
    async record(key, holder, outcome, deadline) {
      const id = ledgerId(key);
      const payload = outcome.state === 'applied' ? JSON.stringify(outcome.result) : outcome.state === 'ambiguous' ? outcome.error : '';
      await recordScript(until(deadline), [entryKey(id), index], [holder, outcome.state, payload, retentionMs, Math.floor(deadline), id, DIED_WHILE_SENDING]);
    },
    get,
    async list(filter: LedgerListFilter = {}) {
      const limit = filter.limit ?? 100;
      const found: LedgerEntry[] = [];
      const horizon = Date.now() - retentionMs;
      // Ids whose entries expired leave the index here.
      await client.call('ZREMRANGEBYSCORE', index, '-inf', String(horizon));
      for (let start = 0; found.length < limit; start += 500) {
        const ids = (await client.call('ZREVRANGE', index, start, start + 499)) as string[];
        if (ids.length === 0) break;
        for (const id of ids) {
          const entry = await get(id);
          if (entry && (filter.state === undefined || entry.state === filter.state)) found.push(entry);
          if (found.length === limit) break;
        }
      }
      return found;
    },
    async resolve(id, outcome) {
      const entry = parseLedgerId(id) && (await get(id));
      if (!entry) throw refusedSettlement(id, 'is not in the ledger (or has expired)');
      const reply = (await resolveScript(client, [entryKey(id), index], [outcome, JSON.stringify(settledResult(entry)), retentionMs, id])) as string[];
      if (reply[0] === 'refused') {
        const why =
          reply[1] === 'applied'
            ? 'is applied: the vendor confirmed it, so there is nothing to settle'
            : reply[1] === 'busy'
              ? `is being sent by another process right now (its lease runs ${Math.ceil(Number(reply[2]) / 1000)} s more): settle it only if it ends ambiguous`
              : 'is not in the ledger (or has expired)';
        throw refusedSettlement(id, why);
      }
      return get(id);
    },
  };
  return defineLedger(store);
}

/** `redisRateLimitStore(redis, options)`'s options. */
export interface RedisRateLimitStoreOptions {
  /** Prepended to every key (default `clawback:`); see `RedisLedgerOptions.prefix`. */
  prefix?: string;
}

/**
 * The sliding window of `memoryRateLimitStore`, in Lua. Per window, KEYS: the order of the
 * last `limit` slots (a list, newest first) and their state (a hash: `i:<lease end>` while in
 * flight, `f:<completed at>` after). ARGV: token, leaseMs, then `limit`, `interval` per window.
 * Replies {1} (taken), {0, wait} or {0, -1} (waiting on a slot still in flight).
 */
const TAKE = `${LUA_NOW}
local windows = #KEYS / 2
local wait = 0
local blocked = false
for w = 1, windows do
  local limit, interval = tonumber(ARGV[1 + 2 * w]), tonumber(ARGV[2 + 2 * w])
  if redis.call('LLEN', KEYS[2 * w - 1]) >= limit then
    local slot = redis.call('HGET', KEYS[2 * w], redis.call('LINDEX', KEYS[2 * w - 1], -1))
    local kind, at = 'f', 0
    if slot then kind, at = string.match(slot, '^(%a):(%d+)$') end
    at = tonumber(at)
    if kind == 'i' and at > now then blocked = true else wait = math.max(wait, at + interval - now) end
  end
end
if blocked then return {0, -1} end
if wait > 0 then return {0, wait} end
local lease = tonumber(ARGV[2])
for w = 1, windows do
  local limit, interval = tonumber(ARGV[1 + 2 * w]), tonumber(ARGV[2 + 2 * w])
  if redis.call('LLEN', KEYS[2 * w - 1]) >= limit then
    redis.call('HDEL', KEYS[2 * w], redis.call('RPOP', KEYS[2 * w - 1]))
  end
  redis.call('LPUSH', KEYS[2 * w - 1], ARGV[1])
  redis.call('HSET', KEYS[2 * w], ARGV[1], 'i:' .. (now + lease))
  for k = 2 * w - 1, 2 * w do redis.call('PEXPIRE', KEYS[k], interval + lease + 60000) end
end
return {1}`;

/** Marks the token's slots completed now. KEYS: each window's hash. ARGV: token. */
const COMPLETE = `${LUA_NOW}
for _, key in ipairs(KEYS) do
  if redis.call('HEXISTS', key, ARGV[1]) == 1 then redis.call('HSET', key, ARGV[1], 'f:' .. now) end
end
return 1`;

const takeScript = script(TAKE);
const completeScript = script(COMPLETE);

/**
 * The rate budget on Redis, shared by every process that uses it: per budget (a fingerprint of
 * the API key, or FirstPromoter's account), a request starts only once the request `limit`
 * places before it has completed and `interval` has passed since, counting every attempt of
 * every process, on Redis's clock. A slot held by a process that died frees when its lease ends.
 * When Redis cannot be reached (or does not answer within a second), each process paces itself
 * alone, with a warning through the provider's logger, until it is back.
 *
 * Why a script of clawback's own: the limiters we know count otherwise. rate-limiter-flexible
 * counts starts in fixed windows and lets up to twice the limit through across a window boundary;
 * BullMQ's limiter counts jobs, not the attempts inside them; neither knows when a request
 * completed, which is what keeps latency from bunching arrivals at the vendor.
 */
export function redisRateLimitStore(redis: RedisClientLike, options: RedisRateLimitStoreOptions = {}): RateLimitStore {
  // No longer than `withLocalFallback` waits before pacing this process alone.
  const client = connected(redis, 1_000);
  const prefix = options.prefix ?? 'clawback:';
  // Hash-tagged by budget, so one budget's keys share a Redis Cluster slot.
  const windowKeys = (key: string, limits: readonly { limit: number; interval: number }[]) =>
    limits.flatMap(({ limit, interval }) => [`${prefix}rate:{${key}}:${limit}/${interval}:order`, `${prefix}rate:{${key}}:${limit}/${interval}:slots`]);
  const shared: RateLimitStore = {
    async take(key, limits, context): Promise<Take> {
      const token = globalThis.crypto.randomUUID();
      const reply = (await takeScript(client, windowKeys(key, limits), [token, Math.ceil(context.leaseMs), ...limits.flatMap(({ limit, interval }) => [limit, interval])])) as number[];
      if (reply[0] === 1) return { taken: true, token };
      return { taken: false, retryIn: reply[1] === -1 ? undefined : Number(reply[1]) };
    },
    async complete(key, limits, token) {
      await completeScript(client, windowKeys(key, limits).filter((_, index) => index % 2 === 1), [token as string]);
    },
  };
  return withLocalFallback(shared);
}
