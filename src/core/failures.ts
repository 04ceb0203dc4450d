import { isHTTPError, isTimeoutError } from 'ky';
import {
  AbortedError,
  ApiError,
  AuthenticationError,
  BadRequestError,
  ClawbackError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  RedirectError,
  ServerError,
  TimeoutError,
  type ClawbackErrorDetails,
} from './errors.js';
import { redactHeaders } from './hooks.js';
import { MAX_RETRY_AFTER_MS, errorChain, isSafeToRetry, neverSent, parseRetryAfter, type FailureKind } from './retry.js';
import type { Answer, Call, Failure, TransportContext, VendorErrorInfo } from './transport-types.js';

// How a failed attempt becomes clawback's error: a status, a timeout, a dropped connection or an
// abort, classified for the retry decision (`Failure.kind`), then worded with what is known of
// the outcome and what to do next. Never one of ky's errors: they carry the `Request`, and with
// it the API key.

/**
 * A plain stand-in for a low-level failure, kept as `cause`. The originals (ky's errors, a
 * custom fetch's) can hold the `Request`, whose headers carry the API key.
 */
function sanitizedCause(error: unknown, redact: (text: string) => string): Error {
  const chain = errorChain(error);
  const innermost = chain.at(-1) ?? { message: String(error) };
  const code = chain.map((entry) => entry.code).find((value) => typeof value === 'string');
  const cause = new Error(redact(typeof innermost.message === 'string' ? innermost.message : String(error)));
  if (code) Object.assign(cause, { code });
  return cause;
}

const apiErrorClasses: Record<number, typeof ApiError> = {
  400: BadRequestError,
  401: AuthenticationError,
  404: NotFoundError,
  409: ConflictError,
  422: BadRequestError,
};

function failureKindForStatus(status: number, info: VendorErrorInfo): FailureKind {
  if (info.final) return 'final';
  if (status === 429) return 'rate-limited';
  if (status === 408 || status >= 500) return 'ambiguous';
  return 'final';
}

export const isAbortError = (error: unknown) => (error as { name?: unknown } | null)?.name === 'AbortError';

/** How one attempt failed: an HTTP answer, an abort, a timeout or a connection that broke. */
export function classify(context: TransportContext, call: Call, error: unknown): Failure {
  const { vendor } = context.config;
  const timeoutMs = call.attemptTimeoutMs;
  if (isHTTPError(error)) {
    const answer = context.answers.get(error.response) ?? call.answer;
    if (answer) return httpFailure(context, answer, error);
  }
  if (call.signal?.aborted || isAbortError(error)) {
    return {
      kind: call.sent ? 'ambiguous' : 'not-sent',
      source: error,
      toError: (details, note) =>
        new AbortedError(call.sent ? `The ${vendor} call was aborted.${note}` : `The ${vendor} call was aborted before it was sent.${note}`, details),
    };
  }
  if (isTimeoutError(error)) {
    return call.sent
      ? { kind: 'ambiguous', source: error, toError: (details, note) => new TimeoutError(`${vendor} did not answer within ${timeoutMs} ms.${note}`, details) }
      : {
          kind: 'not-sent',
          source: error,
          toError: (details) =>
            new TimeoutError(`The ${vendor} call was not sent within its totalTimeout (${call.totalTimeout} ms). It is safe to retry.`, {
              ...details,
              retryable: true,
            }),
        };
  }
  const notSent = !call.sent || neverSent(error);
  const cause = sanitizedCause(error, context.redact);
  return {
    kind: notSent ? 'not-sent' : 'ambiguous',
    source: error,
    toError: (details, note) =>
      new ConnectionError(`Could not reach ${vendor}${notSent ? ' (the request was not sent)' : ''}: ${cause.message.replace(/\.$/, '')}.${note}`, {
        ...details,
        cause,
      }),
  };
}

function httpFailure(context: TransportContext, answer: Answer, source: unknown): Failure {
  const { vendor, readError } = context.config;
  const { redact } = context;
  const { status, body } = answer;
  if ((status >= 300 && status < 400) || status === 0) {
    const location = answer.headers.get('location');
    const where = location === null ? undefined : redact(location);
    return {
      kind: 'final',
      source,
      toError: (details, note) =>
        new RedirectError(
          `${vendor} answered ${status || 'an opaque redirect'} with a redirect to ${where ?? 'an undisclosed location'}. clawback never follows a redirect on a refund, so nothing was sent there and nothing was refunded there. Check that baseURL is ${vendor}'s API.${note}`,
          { ...details, status, requestId: answer.requestId, body, responseHeaders: redactHeaders(answer.headers, redact), location: where },
        ),
    };
  }
  const info = readError(body);
  const retryAfter = parseRetryAfter(answer.headers.get('retry-after')) ?? info.retryAfter;
  const requestId = info.requestId ?? answer.requestId;
  const summary = `${vendor} answered ${status}${info.code ? ` ${info.code}` : ''}${info.message ? `: ${info.message}` : ''}`;
  return {
    kind: failureKindForStatus(status, info),
    retryAfter,
    source,
    toError: (details, note) => {
      const all = { ...details, status, code: info.code, requestId, body, responseHeaders: redactHeaders(answer.headers, redact) };
      const message = `${summary.replace(/\.$/, '')}.${note}`;
      if (status === 403) return new PermissionDeniedError(message, { ...all, need: info.need });
      if (status === 429) return new RateLimitError(message, { ...all, retryAfter });
      if (status >= 500) return new ServerError(message, all);
      return new (apiErrorClasses[status] ?? ApiError)(message, all);
    },
  };
}

/** The call's error for its last failure, with what is known of the outcome and what to do next. */
export function errorFor(context: TransportContext, call: Call, failure: Failure): ClawbackError {
  const { provider, vendor } = context.config;
  const { request } = call;
  const retryable = isSafeToRetry(failure.kind, request.dedupes);
  // An earlier attempt that may have applied the refund keeps the whole call ambiguous.
  const earlier = failure.kind === 'ambiguous' ? undefined : call.earlierAmbiguous;
  // A retry was due but the deadline had passed (ky then ends the call without asking shouldRetry).
  const outOfTime = call.outOfTime || (retryable && call.attempts <= call.maxRetries && performance.now() >= call.deadline);
  const notes: string[] = [];
  if (call.attempts > 1) notes.push(`Gave up after ${call.attempts} attempts.`);
  if (earlier) notes.push(`An earlier attempt of this call may have applied the refund (it ended in ${earlier}).`);
  if (outOfTime) notes.push(`No time was left for a retry within totalTimeout (${call.totalTimeout} ms).`);
  if (failure.kind === 'ambiguous' && !request.dedupes) {
    notes.push(
      `The refund may or may not have been applied, and repeating it could refund twice, so it was not retried: ${request.notIdempotentReason ?? 'the vendor does not deduplicate this request'}. Check the conversion before trying again.`,
    );
  } else if (retryable) {
    const same = request.idempotencyKey ? 'with the same idempotencyKey' : 'the same request';
    notes.push(
      failure.retryAfter !== undefined && failure.retryAfter > MAX_RETRY_AFTER_MS
        ? `${vendor} asked to wait ${Math.ceil(failure.retryAfter / 1000)} s, longer than clawback waits (${MAX_RETRY_AFTER_MS / 1000} s): retry later ${same}.`
        : `It is safe to retry ${same}.`,
    );
  }
  const details = {
    provider,
    idempotencyKey: request.idempotencyKey,
    retryable,
    ambiguous: failure.kind === 'ambiguous' || earlier !== undefined,
    attempts: call.attempts,
  };
  return failure.toError(details, notes.length ? ` ${notes.join(' ')}` : '');
}

/** The error for a call that could not get (or wait for) its next attempt. */
export function interrupted(context: TransportContext, call: Call, why: 'aborted' | 'deadline', retry: boolean): ClawbackError {
  const { provider, vendor } = context.config;
  const base = { provider, idempotencyKey: call.request.idempotencyKey };
  if (retry && call.failure) {
    if (why === 'deadline') {
      call.outOfTime = true;
      return errorFor(context, call, call.failure);
    }
    const last = errorFor(context, call, call.failure);
    return new AbortedError(`The ${vendor} call was aborted while waiting to retry. Last attempt: ${last.message}`, {
      ...base,
      retryable: last.retryable,
      ambiguous: last.ambiguous,
      cause: last,
    });
  }
  if (why === 'aborted') return new AbortedError(`The ${vendor} call was aborted before it was sent.`, { ...base, retryable: true });
  return new TimeoutError(
    `The ${vendor} call was not sent: clawback's rate limit for ${vendor} would hold it past its totalTimeout (${call.totalTimeout} ms). It is safe to retry.`,
    { ...base, retryable: true },
  );
}

/** Any failure as clawback's error; never one of ky's (they carry the `Request`, and with it the key). */
export function toClawbackError(context: TransportContext, call: Call, error: unknown): ClawbackError {
  if (ClawbackError.isInstance(error)) return error as ClawbackError;
  // The signal fired while ky slept before a retry (ky rejects with the signal's reason).
  if (call.waiting && call.signal?.aborted && call.failure) return interrupted(context, call, 'aborted', true);
  const failure = call.failure && call.failure.source === error ? call.failure : classify(context, call, error);
  return errorFor(context, call, failure);
}
