import type { ProviderName } from '../spec/refund-provider-v1.js';

/**
 * A failure to inject into the next request(s), to test your own error handling. The
 * dangerous cases are the ones with `afterApply: true`: the vendor applied the refund, but
 * the answer is lost or wrong.
 */
export interface Fault {
  /** Which vendor's requests it hits. Default: any. */
  provider?: ProviderName;
  /** How many requests it hits. Default 1. */
  times?: number;
  /** Apply the refund first, then fail. Default false: fail without applying anything. */
  afterApply?: boolean;
  /** Wait this many milliseconds before answering (or, with `afterApply: false`, before applying). */
  delay?: number;
  /** Answer with this status (and `body`, `headers`) instead of the vendor's answer. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Drop the connection without an answer: a TCP reset on the loopback server, a network
   * error through msw.
   */
  reset?: boolean;
}

/** The faults waiting to hit requests, in the order they were injected. */
export class FaultQueue {
  readonly #pending: Array<Fault & { remaining: number }> = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError('fault.times must be a positive integer');
    this.#pending.push({ ...fault, remaining: times });
  }

  /** The fault for this request, if any; counts it. */
  take(provider: ProviderName): Fault | undefined {
    const index = this.#pending.findIndex((fault) => fault.provider === undefined || fault.provider === provider);
    const fault = this.#pending[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining === 0) this.#pending.splice(index, 1);
    return fault;
  }

  clear(): void {
    this.#pending.length = 0;
  }

  get size(): number {
    return this.#pending.length;
  }
}
