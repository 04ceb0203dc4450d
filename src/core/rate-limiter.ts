/** At most `limit` requests in any `interval` milliseconds. */
export interface RateLimit {
  limit: number;
  interval: number;
}

/** How a wait for a slot ended. `acquired` comes with `done`, to call when the request has completed. */
export type Slot = { outcome: 'acquired'; done: () => void } | { outcome: 'aborted' | 'deadline' };
export type SlotOutcome = Slot['outcome'];

/**
 * A try for a slot in every window of a budget: taken (hand `token` back to `complete` once the
 * request has completed, however it ended), or not, with the milliseconds until one may free
 * (`retryIn`; undefined while the request to wait for is still in flight).
 */
export type Take = { taken: true; token: unknown } | { taken: false; retryIn: number | undefined };

/**
 * Where a rate budget's windows live: in this process (`memoryRateLimitStore`), or in a store a
 * fleet of processes shares (`redisRateLimitStore` from `clawback/redis`). `key` names the unit
 * the vendor counts by (a fingerprint of the API key, or of FirstPromoter's account), never a
 * secret. `take` must be atomic: no two callers may take the same slot.
 */
export interface RateLimitStore {
  /** Takes a slot in every window of the budget `key`, atomically, or says when one may free. */
  take(key: string, limits: readonly RateLimit[], context: TakeContext): Take | Promise<Take>;
  /** Marks the request a slot was taken for as completed (its `token` from `take`): the window counts from here. */
  complete(key: string, limits: readonly RateLimit[], token: unknown): void | Promise<void>;
}

/** What a provider tells its store with each `take`. */
export interface TakeContext {
  /**
   * How long a slot may stay in flight before a shared store counts its request completed: a
   * process that died holding slots must not block the budget for ever.
   */
  leaseMs: number;
  /** The provider's `logger.warn`: a shared store that falls back to this process's own windows says so here. */
  warn(message: string): void;
}

interface Window extends RateLimit {
  /** Completion times of the last `limit` requests; NaN while one is in flight. */
  finished: Float64Array;
  next: number;
  count: number;
}

/**
 * The rule every store keeps, here for one process: a request may start only once the request
 * `limit` places before it has *completed* and `interval` has passed since. The vendor counts
 * arrivals, and arrival = send + latency, which varies (a burst that opens hundreds of
 * connections lands late, the next one on warm connections lands early); the request `limit`
 * places back arrived before it completed, so the two arrive at least `interval` apart. A token
 * bucket, or a log of send times, lets a burst through at a window boundary that a vendor
 * counting per window answers with 429.
 */
export function memoryRateLimitStore(now: () => number = () => performance.now(), options: { startFull?: boolean } = {}): RateLimitStore {
  const budgets = new Map<string, Window[]>();
  const windowsOf = (key: string, limits: readonly RateLimit[]) => {
    let windows = budgets.get(key);
    if (!windows) {
      // Full: as if `limit` requests had just completed, so the first slot frees an interval from now.
      const at = now();
      windows = limits.map((limit) => ({ ...limit, finished: new Float64Array(limit.limit).fill(options.startFull ? at : 0), next: 0, count: options.startFull ? limit.limit : 0 }));
      budgets.set(key, windows);
    }
    return windows;
  };
  return {
    take(key, limits) {
      const windows = windowsOf(key, limits);
      const at = now();
      let wait = 0;
      for (const window of windows) {
        if (window.count < window.limit) continue;
        // The slot about to be reused belongs to the request `limit` places back.
        const finished = window.finished[window.next] ?? 0;
        wait = Math.max(wait, Number.isNaN(finished) ? Number.POSITIVE_INFINITY : finished + window.interval - at);
      }
      if (wait > 0) return { taken: false, retryIn: Number.isFinite(wait) ? wait : undefined };
      const token = windows.map((window) => {
        const index = window.next;
        window.finished[index] = Number.NaN;
        window.next = (index + 1) % window.limit;
        window.count += 1;
        return index;
      });
      return { taken: true, token };
    },
    complete(key, limits, token) {
      const at = now();
      windowsOf(key, limits).forEach((window, position) => {
        window.finished[(token as number[])[position] as number] = at;
      });
    },
  };
}

/** How long a shared store may take to answer before this process paces itself alone. */
const SHARED_STORE_TIMEOUT_MS = 1_000;

/**
 * A shared store that, while it cannot be reached (an error, or no answer within a second), gives
 * way to this process's own windows, with one warning per outage. Those start full, as if the
 * fleet had just used the whole budget (it may have): a failover never bursts into the vendor's
 * window, and one interval later the process paces itself alone. That degrades safely: a 429
 * never applies a refund, and the fleet meets one only if the outage outlasts an interval.
 */
export function withLocalFallback(shared: RateLimitStore, fallback: () => RateLimitStore = () => memoryRateLimitStore(undefined, { startFull: true })): RateLimitStore {
  let degraded = false;
  let local = fallback();
  const tagged = (take: Take, where: 'shared' | 'local'): Take => (take.taken ? { taken: true, token: { where, token: take.token } } : take);
  return {
    async take(key, limits, context) {
      const { warn } = context;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const take = await Promise.race([
          Promise.resolve().then(() => shared.take(key, limits, context)),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${SHARED_STORE_TIMEOUT_MS} ms`)), SHARED_STORE_TIMEOUT_MS);
          }),
        ]);
        if (degraded) {
          degraded = false;
          warn('clawback: the shared rate limit store answers again; the fleet shares one budget again');
        }
        return tagged(take, 'shared');
      } catch (error) {
        if (!degraded) {
          degraded = true;
          local = fallback(); // a fresh, full one for each outage
          warn(
            `clawback: the shared rate limit store failed (${error instanceof Error ? error.message : String(error)}); this process paces itself alone until it is back, so the fleet together may exceed the vendor's limit and meet 429s (which refund nothing)`,
          );
        }
        return tagged(await local.take(key, limits, context), 'local');
      } finally {
        clearTimeout(timer);
      }
    },
    complete(key, limits, token) {
      const { where, token: inner } = token as { where: 'shared' | 'local'; token: unknown };
      return (where === 'shared' ? shared : local).complete(key, limits, inner);
    },
  };
}

/**
 * How often a waiter looks again while the slot it waits for belongs to a request still in
 * flight, whose completion time (and so the slot's) is not known yet.
 */
const POLL_MS = 20;

const isPromise = <T>(value: T | Promise<T>): value is Promise<T> => typeof (value as { then?: unknown } | null)?.then === 'function';

/**
 * One provider's client-side limit: every call waits here for a slot in the budget (`store`,
 * under `key`), first come first served within this process.
 *
 * Each waiter wakes on its own timer: when the next slot frees, or every `POLL_MS` while that is
 * not known yet. Nothing one request does resolves another's promise: on Cloudflare Workers a
 * provider made at module scope serves every request, and workerd cancels the continuations of a
 * promise resolved from another request's context.
 */
export class RateLimiter {
  /** Waiters in arrival order; only the first takes a slot. */
  readonly #queue: object[] = [];
  /** When the first waiter expects a slot (a `now()` time), for the others to sleep until. */
  #nextFree = 0;
  /** The budget's name in the store, once known (a shared store's is a fingerprint, computed on first use). */
  #key: string | undefined;

  constructor(
    private readonly limits: readonly RateLimit[],
    private readonly store: RateLimitStore = memoryRateLimitStore(),
    private readonly key: string | (() => Promise<string>) = 'local',
    private readonly context: TakeContext = { leaseMs: 60_000, warn: () => {} },
    private readonly now: () => number = () => performance.now(),
  ) {
    if (typeof key === 'string') this.#key = key;
  }

  /**
   * Waits for a slot: `acquired` (call `done()` once the request has completed, however it
   * ended), or `aborted` when the signal fires, or `deadline` when the slot would come after
   * `deadline` (a `now()` time).
   */
  acquire(signal?: AbortSignal, deadline = Number.POSITIVE_INFINITY): Slot | Promise<Slot> {
    if (this.#key === undefined) {
      return (this.key as () => Promise<string>)().then((key) => {
        this.#key = key;
        return this.acquire(signal, deadline);
      });
    }
    if (this.#queue.length > 0 || signal?.aborted) return this.#wait(signal, deadline);
    // Nobody queued: try at once, without a promise when the store answers synchronously (the
    // common case, unsaturated, in one process).
    const take = this.store.take(this.#key as string, this.limits, this.context);
    if (isPromise(take)) return take.then((answer) => (answer.taken ? this.#slot(answer.token) : this.#wait(signal, deadline, answer)));
    return take.taken ? this.#slot(take.token) : this.#wait(signal, deadline, take);
  }

  #slot(token: unknown): Slot {
    let released = false;
    return {
      outcome: 'acquired',
      done: () => {
        if (released) return;
        released = true;
        // A shared store that fails here lets the slot lapse on its own (its lease); nothing to undo.
        Promise.resolve()
          .then(() => this.store.complete(this.#key as string, this.limits, token))
          .catch(() => {});
      },
    };
  }

  async #wait(signal: AbortSignal | undefined, deadline: number, first?: Take): Promise<Slot> {
    const ticket = {};
    this.#queue.push(ticket);
    let answer = first;
    try {
      for (;;) {
        if (signal?.aborted) return { outcome: 'aborted' };
        let wait: number;
        if (this.#queue[0] === ticket) {
          answer ??= await this.store.take(this.#key as string, this.limits, this.context);
          if (answer.taken) {
            this.#nextFree = this.now(); // the queue moved: the next waiter looks at once
            return this.#slot(answer.token);
          }
          const now = this.now();
          if (answer.retryIn !== undefined && now + answer.retryIn > deadline) return { outcome: 'deadline' };
          wait = answer.retryIn ?? POLL_MS;
          this.#nextFree = now + wait;
        } else {
          // Behind another waiter: no slot before the one it expects. Once that time has come,
          // look again at the next tick while the queue is moving (the head took a slot, or
          // learnt when one frees, within the last POLL_MS), so it moves as fast as slots free
          // and not one waiter per POLL_MS; every POLL_MS while the head's take is slow. (The
          // head cannot wake the next waiter itself: see above.)
          const now = this.now();
          wait = this.#nextFree > now ? this.#nextFree - now : now - this.#nextFree < POLL_MS ? 1 : POLL_MS;
        }
        answer = undefined;
        const left = deadline - this.now();
        if (left <= 0) return { outcome: 'deadline' };
        await sleep(Math.min(wait, left), signal);
      }
    } finally {
      this.#queue.splice(this.#queue.indexOf(ticket), 1);
    }
  }
}

/** A timer of the caller's own, ended early by its own signal. */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(stop, Math.ceil(Math.min(ms, 2 ** 31 - 1)));
    signal?.addEventListener('abort', stop, { once: true });
  });
}
