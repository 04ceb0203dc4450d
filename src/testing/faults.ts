import type { ProviderName } from '../spec/refund-provider-v1.js';

/**
 * A failure to inject into the next request(s), to test your own error handling. The
 * dangerous cases are the ones with `afterApply: true`: the vendor applied the refund, but
 * the answer is lost or wrong.
 */
export interface Fault {
  /** Which vendor's requests it hits. Default: any. */
  provider?: ProviderName;
  /** Only requests for this conversion (the id `refund()` takes as `conversionId`). Default: any. */
  conversionId?: string;
  /** How many requests it hits. Default 1. */
  times?: number;
  /** Apply the refund first, then fail. Default false: fail without applying anything. */
  afterApply?: boolean;
  /** Wait this many milliseconds before answering (or, with `afterApply: false`, before applying). */
  delay?: number;
  /** Answer with this status (and `body`, `headers`) instead of the vendor's answer. */
  status?: number;
  /**
   * A string is sent as it is (HTML from a proxy, truncated JSON), bytes (`Uint8Array`) too (a
   * body already gzipped, with `headers: { 'content-encoding': 'gzip' }`); anything else as JSON.
   */
  body?: unknown;
  /** With `status`, the fault's headers; without, headers laid over the vendor's real answer. */
  headers?: Record<string, string>;
  /**
   * Drop the connection without an answer: a TCP reset on the loopback server, a network
   * error through msw.
   */
  reset?: boolean;
  /**
   * Send the answer gzip-compressed, with `content-encoding: gzip`: what fetch decodes before
   * clawback reads it. On the loopback server only (fetch does not decode a Response msw hands
   * back; through msw the answer is sent as it is).
   */
  compress?: 'gzip';
  /** Send the body `bytes` at a time, one piece every `every` milliseconds: a body that trickles in. */
  trickle?: { bytes: number; every: number };
}

/** The faults waiting to hit requests, in the order they were injected. */
export class FaultQueue {
  readonly #pending: Array<Fault & { remaining: number }> = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError('fault.times must be a positive integer');
    this.#pending.push({ ...fault, remaining: times });
  }

  /** Whether a pending fault for `provider` picks requests by conversion (so the caller must find out which). */
  wantsConversionId(provider: ProviderName): boolean {
    return this.#pending.some(
      (fault) => fault.conversionId !== undefined && (fault.provider === undefined || fault.provider === provider),
    );
  }

  /** The fault for this request, if any; counts it. */
  take(provider: ProviderName, conversionId?: string): Fault | undefined {
    const index = this.#pending.findIndex(
      (fault) =>
        (fault.provider === undefined || fault.provider === provider) &&
        (fault.conversionId === undefined || fault.conversionId === conversionId),
    );
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
