/** At most `limit` requests in any `interval` milliseconds. */
export interface RateLimit {
  limit: number;
  interval: number;
}

/** How a wait for a slot ended. `acquired` comes with `done`, to call when the request has completed. */
export type Slot = { outcome: 'acquired'; done: () => void } | { outcome: 'aborted' | 'deadline' };
export type SlotOutcome = Slot['outcome'];

const monotonicNow = () => performance.now();

/** A promise and its resolver (`Promise.withResolvers`, which is ES2024). */
function signalled(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

interface Window extends RateLimit {
  /** Completion times of the last `limit` requests; NaN while one is in flight. */
  finished: Float64Array;
  next: number;
  count: number;
}

/**
 * Client-side limiter shared by every call of one provider instance, guaranteeing that the
 * vendor never sees more than `limit` requests in any `interval`, whatever the network does.
 *
 * The vendor counts arrivals, and arrival = send + latency, which varies (a burst that opens
 * hundreds of connections lands late, the next one on warm connections lands early). So a
 * request may start only once the request `limit` places before it has *completed* and
 * `interval` has passed since: it arrived before it completed, so the two arrive at least
 * `interval` apart. A token bucket, or a log of send times, lets a burst through at a window
 * boundary that a vendor counting per window answers with 429. Callers wait in FIFO order.
 */
export class SlidingWindowLimiter {
  readonly #windows: Window[];
  #tail: Promise<unknown> = Promise.resolve();
  /** Callers waiting in `#tail`'s queue. */
  #queued = 0;
  /** Resolves when any request completes, then is replaced. */
  #completion = signalled();

  constructor(limits: readonly RateLimit[], private readonly now: () => number = monotonicNow) {
    this.#windows = limits.map((limit) => ({ ...limit, finished: new Float64Array(limit.limit), next: 0, count: 0 }));
  }

  /**
   * Waits for a slot: `acquired` (call `done()` once the request has completed, however it
   * ended), or `aborted` when the signal fires, or `deadline` when the slot would come after
   * `deadline` (a `now()` time).
   */
  acquire(signal?: AbortSignal, deadline = Number.POSITIVE_INFINITY): Slot | Promise<Slot> {
    // Nobody queued and a slot free: no promise to wait on (the common case, unsaturated).
    if (this.#queued === 0 && !signal?.aborted && this.#delay(this.now()) <= 0) return this.#take();
    this.#queued += 1;
    const turn = this.#tail.then(() => this.#waitForSlot(signal, deadline)).finally(() => (this.#queued -= 1));
    this.#tail = turn;
    return turn;
  }

  /** Milliseconds until a slot frees up: 0 for now, Infinity while the request to wait for is in flight. */
  #delay(now: number): number {
    let wait = 0;
    for (const window of this.#windows) {
      if (window.count < window.limit) continue;
      // The slot about to be reused belongs to the request `limit` places back.
      const finished = window.finished[window.next] ?? 0;
      wait = Math.max(wait, Number.isNaN(finished) ? Number.POSITIVE_INFINITY : finished + window.interval - now);
    }
    return wait;
  }

  #take(): Slot {
    const taken = this.#windows.map((window) => {
      const index = window.next;
      window.finished[index] = Number.NaN;
      window.next = (index + 1) % window.limit;
      window.count += 1;
      return { window, index };
    });
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      const now = this.now();
      for (const { window, index } of taken) window.finished[index] = now;
      this.#completion.resolve();
      this.#completion = signalled();
    };
    return { outcome: 'acquired', done };
  }

  async #waitForSlot(signal: AbortSignal | undefined, deadline: number): Promise<Slot> {
    for (;;) {
      if (signal?.aborted) return { outcome: 'aborted' };
      const now = this.now();
      const wait = this.#delay(now);
      if (wait <= 0) return this.#take();
      // Waiting on a request in flight: its completion time, and so the deadline check, is unknown yet.
      if (Number.isFinite(wait) && now + wait > deadline) return { outcome: 'deadline' };
      await new Promise<void>((resolve) => {
        const stop = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', stop);
          resolve();
        };
        const timeLeft = deadline - now;
        const timer = setTimeout(stop, Math.ceil(Number.isFinite(wait) ? wait : Math.min(timeLeft, 2 ** 31 - 1)));
        void this.#completion.promise.then(stop);
        signal?.addEventListener('abort', stop, { once: true });
      });
      if (this.now() >= deadline) return { outcome: 'deadline' };
    }
  }
}
