import ky, { isTimeoutError, replaceOption, type BeforeRequestHook, type BeforeRetryHook, type KyInstance, type Options, type ShouldRetryState } from 'ky';
import { ValidationError } from './errors.js';
import { classify, interrupted } from './failures.js';
import { log } from './hooks.js';
import { RateLimiter, type Slot } from './rate-limiter.js';
import { MAX_RETRY_AFTER_MS, backoffDelay, isSafeToRetry } from './retry.js';
import { CALL, callOf, releaseSlot, type Call, type FetchFunction, type TransportContext } from './transport-types.js';
import { sendAttempt } from './vendor-fetch.js';

// The ky instance a transport sends through, made once per provider: the caller's own instance
// extended (its hooks run on every attempt) or ky's, with clawback's rules in its options and
// hooks: the rate-limit slot per attempt, the retry decision, no redirects, and clawback's fetch.

/** Takes a slot for the next attempt; throws (and so ends the call) when it cannot be had in time. */
function takeSlot(context: TransportContext, limiter: RateLimiter, call: Call, retry: boolean): void | Promise<void> {
  releaseSlot(call);
  call.waiting = false;
  const hold = (slot: Slot) => {
    if (slot.outcome !== 'acquired') throw interrupted(context, call, slot.outcome, retry);
    // ky gave up waiting (its totalTimeout) while the limiter held this call: let the slot go.
    if (call.finished) slot.done();
    else call.slot = slot;
  };
  const slot = limiter.acquire(call.signal, call.deadline);
  return slot instanceof Promise ? slot.then(hold) : hold(slot);
}

/** ky's `retry.shouldRetry`: the retry-safety matrix, the 60 s cap and the deadline. */
export function shouldRetry(context: TransportContext, call: Call, { error, retryCount }: ShouldRetryState): boolean {
  const failure = classify(context, call, error);
  call.failure = failure;
  if (failure.kind === 'ambiguous') call.earlierAmbiguous ??= call.answer ? `a ${call.answer.status}` : isTimeoutError(error) ? 'a timeout' : 'a dropped connection';
  if (!isSafeToRetry(failure.kind, call.request.dedupes) || call.signal?.aborted) return false;
  const wait = failure.retryAfter ?? backoffDelay(retryCount);
  if (wait > MAX_RETRY_AFTER_MS) return false;
  // ky would sleep until the deadline and then time out; a retry that cannot fit fails now,
  // with the failure that made it due.
  if (performance.now() + wait >= call.deadline) {
    call.outOfTime = true;
    return false;
  }
  const failed = call.answer ? call.answer.status : isTimeoutError(error) ? 'timeout' : 'connection';
  log(context.config.observe.logger, 'warn', `clawback: attempt ${call.attempts} of POST ${call.url} failed (${failed}); retrying in ${Math.round(wait)} ms`);
  call.wait = wait;
  call.waiting = true;
  call.sent = false;
  return true;
}

/** The transport's ky instance. A limiter, when the provider has limits, is asked for a slot before every attempt. */
export function createKyInstance(context: TransportContext, limiter: RateLimiter | undefined): KyInstance {
  const { config } = context;
  // The rate-limit slot for each attempt, when there is a limit: hooks cost every call a few µs.
  const slotHooks = limiter && {
    beforeRequest: (({ options }) => {
      const call = callOf(options);
      if (call) return takeSlot(context, limiter, call, false);
    }) satisfies BeforeRequestHook,
    beforeRetry: (({ options }) => {
      const call = callOf(options);
      if (call) return takeSlot(context, limiter, call, true);
    }) satisfies BeforeRetryHook,
  };

  return ((config.ky as KyInstance | undefined) ?? ky).extend((parent: Options) => {
    if (config.fetch && parent.fetch) {
      throw new ValidationError([{ path: 'fetch', message: 'is set, and so is the fetch of the ky instance given as `ky`: pass one of them' }], {
        context: 'Invalid provider settings',
        provider: config.provider,
      });
    }
    // Looked up per call, so whatever patches the global fetch later (msw) is used.
    const baseFetch: FetchFunction = config.fetch ?? parent.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const hooks = parent.hooks ?? {};
    context.callerHooks.changeRequests = Boolean(hooks.beforeRequest?.length || hooks.beforeRetry?.length);
    context.callerHooks.readResponses = Boolean(hooks.afterResponse?.length || parent.onDownloadProgress);
    return {
      prefix: config.baseURL,
      // Never followed: the vendor's refund endpoint answers, or the call fails (RedirectError).
      redirect: 'manual',
      throwHttpErrors: true,
      // A default JSON body on the caller's instance must not replace the refund's.
      json: undefined,
      // clawback decides every retry in shouldRetry (set per call); ky's status lists and
      // Retry-After reading are switched off so none of them can retry a POST on its own.
      retry: replaceOption({ methods: ['post'], statusCodes: [], afterStatusCodes: [], retryOnTimeout: false, backoffLimit: Number.POSITIVE_INFINITY }),
      // clawback's slot first (so a caller's hook that answers from a cache still has the slot
      // released), then the caller's hooks as they were. Errors are mapped where `post` catches
      // them, not in a beforeError hook: ky skips those hooks for errors thrown by beforeRetry
      // hooks and for rejections that are not Errors, and the catch sees every one.
      hooks: replaceOption({
        ...hooks,
        beforeRequest: [...(slotHooks ? [slotHooks.beforeRequest] : []), ...(hooks.beforeRequest ?? [])],
        beforeRetry: [...(slotHooks ? [slotHooks.beforeRetry] : []), ...(hooks.beforeRetry ?? [])],
      }),
      fetch: ((input: Request, init: RequestInit) => {
        const { [CALL]: call, ...rest } = init as RequestInit & { [CALL]?: Call };
        return call ? sendAttempt(context, call, baseFetch, input, rest) : baseFetch(input, rest);
      }) as Options['fetch'],
    };
  });
}
