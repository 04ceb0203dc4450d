import ky, { isHTTPError, isTimeoutError, replaceOption, type BeforeRequestHook, type BeforeRetryHook, type KyInstance, type Options, type ShouldRetryState } from 'ky';
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
  ResponseValidationError,
  ServerError,
  TimeoutError,
  ValidationError,
  type ClawbackErrorDetails,
} from './errors.js';
import { log, notify, redactHeaders, type ObservabilitySettings } from './hooks.js';
import { SlidingWindowLimiter, type RateLimit, type Slot } from './rate-limiter.js';
import { createRedactor, type Redactor } from './redaction.js';
import { MAX_RESPONSE_BYTES, readCapped, responseOf, toResponse } from './response-body.js';
import { MAX_RETRY_AFTER_MS, backoffDelay, errorChain, isSafeToRetry, neverSent, parseRetryAfter, type FailureKind } from './retry.js';
import type { KyInstanceLike } from './settings.js';
import { describeSchemaIssue, type Schema } from './validation.js';
import type { CallOptions, ProviderName } from '../spec/refund-provider-v1.js';
import { VERSION } from '../version.js';

export type FetchFunction = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

export { MAX_RESPONSE_BYTES };

/** What a provider reads out of its vendor's error envelope. */
export interface VendorErrorInfo {
  code?: string | undefined;
  message?: string | undefined;
  requestId?: string | undefined;
  /** A wait the vendor asked for in the body (Affonso `retryAfter`), in milliseconds. */
  retryAfter?: number | undefined;
  /** The scope an Affixo key lacks (`need`). */
  need?: string | undefined;
  /** The vendor says retrying will not help (RefCampaign `LIMIT_EXCEEDED`: plan quota used up). */
  final?: boolean | undefined;
}

/** The resolved credentials: the auth headers (lower-case names) and every secret to redact. */
export interface Credentials {
  headers: Record<string, string>;
  secrets: readonly string[];
  /** Headers computed for each attempt over the exact bytes sent (Affonso's request signature). */
  sign?: ((body: string) => Promise<Record<string, string>>) | undefined;
}

export interface TransportConfig {
  provider: ProviderName;
  /** The vendor's name as users know it, for messages: "Affonso". */
  vendor: string;
  baseURL: string;
  /** Resolves the credentials; throws `ValidationError` before any request when one is missing. */
  credentials: () => Credentials;
  headers: Record<string, string>;
  fetch: FetchFunction | undefined;
  /** A caller's ky instance to extend (its hooks run on every attempt); ky's default one otherwise. */
  ky: KyInstanceLike | undefined;
  timeout: number;
  maxRetries: number;
  /** Overall limit per call, attempts, waits and all; undefined for none. */
  totalTimeout: number | undefined;
  /** Client-side limits shared by every call through this transport; empty for none. */
  rateLimit: readonly RateLimit[];
  /** Reads the vendor's error envelope; returns `{}` for bodies it does not recognise. */
  readError: (body: unknown) => VendorErrorInfo;
  observe: ObservabilitySettings;
}

export interface VendorRequest {
  /** Path appended to `baseURL`, e.g. `v1/track/refund`. */
  path: string;
  body: unknown;
  /** True when the vendor deduplicates this exact request, so repeating it cannot refund twice. */
  dedupes: boolean;
  /** Why it is not deduplicated, for the message of an ambiguous failure that was not retried. */
  notIdempotentReason?: string | undefined;
  idempotencyKey?: string | undefined;
  options: CallOptions | undefined;
}

export interface VendorResponse {
  status: number;
  /** Parsed JSON (secrets redacted), or undefined for an empty body. */
  body: unknown;
  requestId: string | undefined;
  /** The body was larger than clawback reads (`MAX_RESPONSE_BYTES`) and was not parsed. */
  oversized: boolean;
  /** How an earlier attempt of the same call ended that may have applied the refund ("a 500"), if one did. */
  earlierAmbiguous?: string | undefined;
  /** The answer's headers, as received (redacted when they go into an error). */
  responseHeaders?: Headers | undefined;
  attempts?: number | undefined;
}

/** A vendor's answer as clawback read it: bounded, redacted, parsed. */
interface Answer extends VendorResponse {
  headers: Headers;
  /** The whole body read, redacted (for a ky hook that reads the response). */
  text: string;
}

/** A failed attempt, classified for the retry decision and the error. */
interface Failure {
  kind: FailureKind;
  retryAfter?: number | undefined;
  /** The ky error (or fetch error) it describes. */
  source: unknown;
  toError(details: ClawbackErrorDetails, note: string): ClawbackError;
}

/** Everything one call shares across its attempts and ky's hooks. */
interface Call {
  request: VendorRequest;
  body: string;
  fixedHeaders: Record<string, string>;
  signal: AbortSignal | undefined;
  timeoutMs: number;
  maxRetries: number;
  totalTimeout: number | undefined;
  deadline: number;
  slot: Slot | undefined;
  /** Attempts handed to fetch so far, and the URL the last one went to. */
  attempts: number;
  url: string;
  /** The current attempt reached fetch (so the vendor may have seen it). */
  sent: boolean;
  /** The attempt's own time limit: `timeout`, or what is left of `totalTimeout`. */
  attemptTimeoutMs: number;
  answer: Answer | undefined;
  failure: Failure | undefined;
  /** The wait before the next attempt, planned by `shouldRetry` (ky's `retry.delay` returns it). */
  wait: number;
  /** Sleeping before a retry. */
  waiting: boolean;
  /** A retry was due but `totalTimeout` left no time for it. */
  outOfTime: boolean;
  /**
   * How the first attempt that may have applied the refund ended ("a 500", "a timeout"): once
   * one did, the call stays ambiguous however a later attempt ends.
   */
  earlierAmbiguous: string | undefined;
  finished: boolean;
}

/** The option key that carries the call to clawback's `fetch` (ky forwards unknown options to fetch). */
const CALL = 'clawbackCall';
const callOf = (options: object): Call | undefined => (options as { [CALL]?: Call })[CALL];

const MAX_BODY_TEXT_IN_ERRORS = 2_000;

function parseBody(text: string, redactor: Redactor): unknown {
  if (!/\S/.test(text)) return undefined;
  try {
    // Without a backslash no JSON escape can spell a secret the text redaction missed.
    const parsed: unknown = JSON.parse(text);
    return text.includes('\\') ? redactor.value(parsed) : parsed;
  } catch {
    return text.length > MAX_BODY_TEXT_IN_ERRORS ? `${text.slice(0, MAX_BODY_TEXT_IN_ERRORS)}…` : text;
  }
}

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

/** Lower-cased names, so the fixed headers (lower-case too) replace any of the same name. */
function lowerCaseNames(headers: Record<string, string>): Record<string, string> {
  const lower: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return lower;
}

const USER_AGENT = `clawback/${VERSION}`;

/**
 * clawback's own headers: the body is JSON and the answer read as JSON, and the credentials are
 * the provider's, whatever the caller set. A caller's User-Agent is kept, with clawback's appended.
 */
function fixedHeaders(callerHeaders: Record<string, string>, authHeaders: Record<string, string>): Record<string, string> {
  const agent = callerHeaders['user-agent'];
  return {
    'user-agent': agent ? `${agent} ${USER_AGENT}` : USER_AGENT,
    accept: 'application/json',
    'content-type': 'application/json',
    ...authHeaders,
  };
}

const isAbortError = (error: unknown) => (error as { name?: unknown } | null)?.name === 'AbortError';

export interface Transport {
  /** POSTs `request.body` as JSON, retrying where safe. Resolves with any 2xx; throws a `ClawbackError` otherwise. */
  post(request: VendorRequest): Promise<VendorResponse>;
  /**
   * Validates a 2xx body against the vendor's documented schema, or throws
   * `ResponseValidationError`. Returns the body as received (secrets redacted): a "__proto__"
   * key stays data, and nothing is renamed, reordered or dropped.
   */
  parse<T>(schema: Schema<T>, response: VendorResponse, request: VendorRequest): T;
  /** `post` then `parse`: the whole call for a vendor without quirks between the two. */
  send<T>(request: VendorRequest, schema: Schema<T>): Promise<{ data: T; response: VendorResponse }>;
}

export function createTransport(config: TransportConfig): Transport {
  const { provider, vendor } = config;
  const callerHeaders = lowerCaseNames(config.headers);
  const limiter = config.rateLimit.length > 0 ? new SlidingWindowLimiter(config.rateLimit) : undefined;
  const { logger, onRequest, onResponse } = config.observe;
  const observed = Boolean(logger?.debug || onRequest || onResponse);

  // Everything that needs the credentials, built on the first call (the key may come from the
  // environment, read then) and reused.
  let prepared: { fixed: Record<string, string>; headers: Record<string, string>; redactor: Redactor; sign: Credentials['sign'] } | undefined;
  function prepare() {
    if (!prepared) {
      const { headers: authHeaders, secrets, sign } = config.credentials();
      const fixed = fixedHeaders(callerHeaders, authHeaders);
      prepared = { fixed, headers: { ...callerHeaders, ...fixed }, redactor: createRedactor(secrets), sign };
    }
    return prepared;
  }
  const redact = (text: string) => (prepared ? prepared.redactor.text(text) : text);

  /**
   * Without a caller's ky instance, clawback knows everything ky's Request holds, so its fetch
   * sends the body itself, as the string `post` serialised (undici writes a string in one go;
   * measured: 15 % more throughput than a Request's stream, bench/RESULTS.md), and `post` gives
   * ky no body at all, so ky's Request and its retry clone build and tee no stream. A caller's
   * instance may have hooks that read or replace the Request: then the body goes through ky and
   * the Request is sent as it is.
   */
  const sendsBody = config.ky === undefined;

  /** Answers read by clawback's fetch, by the Response handed to ky. */
  const answers = new WeakMap<Response, Answer>();

  function answerOf(response: Response, text: string, oversized: boolean): Answer {
    const { redactor } = prepare();
    const safeText = redactor.text(text);
    const requestId = response.headers.get('x-request-id');
    return {
      status: response.status,
      headers: response.headers,
      text: safeText,
      body: oversized ? undefined : parseBody(safeText, redactor),
      requestId: requestId === null ? undefined : redactor.text(requestId),
      oversized,
    };
  }

  // ---- the rate-limit slot, taken in ky's beforeRequest and beforeRetry hooks -------------
  /** Takes a slot for the next attempt; throws (and so ends the call) when it cannot be had in time. */
  function takeSlot(limiter: SlidingWindowLimiter, call: Call, retry: boolean): void | Promise<void> {
    releaseSlot(call);
    call.waiting = false;
    const hold = (slot: Slot) => {
      if (slot.outcome !== 'acquired') throw interrupted(call, slot.outcome, retry);
      // ky gave up waiting (its totalTimeout) while the limiter held this call: let the slot go.
      if (call.finished) slot.done();
      else call.slot = slot;
    };
    const slot = limiter.acquire(call.signal, call.deadline);
    return slot instanceof Promise ? slot.then(hold) : hold(slot);
  }

  function releaseSlot(call: Call, slot = call.slot): void {
    if (slot?.outcome === 'acquired') slot.done(); // the rate limiter counts from completion
    if (call.slot === slot) call.slot = undefined;
  }

  /** The error for a call that could not get (or wait for) its next attempt. */
  function interrupted(call: Call, why: 'aborted' | 'deadline', retry: boolean): ClawbackError {
    const base = { provider, idempotencyKey: call.request.idempotencyKey };
    if (retry && call.failure) {
      if (why === 'deadline') {
        call.outOfTime = true;
        return errorFor(call, call.failure);
      }
      const last = errorFor(call, call.failure);
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

  // ---- one attempt: clawback's fetch, run by ky inside its per-attempt timeout --------------
  /**
   * Sends one attempt and reads its answer. It is ky's `fetch`, so ky's `timeout` bounds the
   * whole exchange, headers and body. It also keeps what ky cannot: the credentials and
   * `redirect: 'manual'` whatever a hook did to the request, a body read that stops at
   * `MAX_RESPONSE_BYTES` decoded bytes, whether the attempt was ever handed to fetch, and the
   * hook events.
   */
  async function exchange(call: Call, baseFetch: FetchFunction, input: Request, init: RequestInit): Promise<Response> {
    const request = input.redirect === 'manual' ? input : new Request(input, { redirect: 'manual' });
    // Only a caller's request hook can have changed clawback's headers after ky merged them.
    if (callerHooks.changeRequests) {
      for (const [name, value] of Object.entries(call.fixedHeaders)) {
        if (request.headers.get(name) !== value) request.headers.set(name, value);
      }
    }
    // Signed per attempt (a fresh timestamp each time), over the very bytes sent.
    const sign = prepared?.sign;
    if (sign) for (const [name, value] of Object.entries(await sign(call.body))) request.headers.set(name, value);
    const slot = call.slot;
    const attempt = (call.attempts += 1);
    call.url = request.url;
    call.sent = true;
    call.waiting = false;
    call.answer = undefined;
    call.attemptTimeoutMs = Math.max(1, Math.round(Math.min(call.timeoutMs, call.deadline - performance.now())));
    const base = { provider, method: 'POST' as const, url: request.url, attempt, idempotencyKey: call.request.idempotencyKey };
    const started = performance.now();
    if (observed) {
      const sent = { ...base, headers: redactHeaders(request.headers, redact), body: call.request.body };
      notify('onRequest', onRequest, sent, logger);
      log(logger, 'debug', `clawback: POST ${request.url} (attempt ${attempt})`, sent);
    }
    const report = (response: Response | undefined, failure?: 'timeout' | 'aborted' | 'connection') => {
      if (!observed) return;
      const received = {
        ...base,
        status: response?.status,
        headers: response ? redactHeaders(response.headers, redact) : {},
        durationMs: Math.round((performance.now() - started) * 10) / 10,
        ...(failure ? { failure } : {}),
      };
      notify('onResponse', onResponse, received, logger);
      log(logger, 'debug', `clawback: ${response ? response.status : failure} from POST ${request.url} in ${received.durationMs} ms`, received);
    };
    try {
      // See `sendsBody`: the URL, headers and signal of ky's Request with the body clawback
      // serialised, or (with a caller's ky instance) the Request ky built, as it is.
      const sent =
        sendsBody
          ? baseFetch(request.url, { ...init, method: 'POST', headers: request.headers, body: call.body, signal: request.signal, redirect: 'manual' })
          : baseFetch(request, init);
      const response = await toResponse(await sent);
      const { text, oversized } = await readCapped(response);
      const answer = answerOf(response, text, oversized);
      if (attempt === call.attempts) call.answer = answer;
      report(response);
      // The body is read. A caller's afterResponse hook (or download progress) reads the
      // response again, so it gets a fresh one holding what was read; a status a Response
      // cannot be built with (an opaque redirect's 0) keeps the original.
      const handed =
        callerHooks.readResponses && response.status >= 200 && response.status <= 599
          ? responseOf(response.status, answer.text, response.headers, response.statusText)
          : response;
      answers.set(handed, answer);
      return handed;
    } catch (error) {
      report(undefined, call.signal?.aborted ? 'aborted' : isAbortError(error) ? 'timeout' : 'connection');
      throw error;
    } finally {
      releaseSlot(call, slot);
    }
  }

  // ---- failures: classified for ky's retry.shouldRetry, mapped in its beforeError hook -------
  function classify(call: Call, error: unknown): Failure {
    const timeoutMs = call.attemptTimeoutMs;
    if (isHTTPError(error)) {
      const answer = answers.get(error.response) ?? call.answer;
      if (answer) return httpFailure(answer, error);
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
    const cause = sanitizedCause(error, redact);
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

  function httpFailure(answer: Answer, source: unknown): Failure {
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
    const info = config.readError(body);
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

  /** ky's `retry.shouldRetry`: the retry-safety matrix, the 60 s cap and the deadline. */
  function shouldRetry(call: Call, { error, retryCount }: ShouldRetryState): boolean {
    const failure = classify(call, error);
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
    log(logger, 'warn', `clawback: attempt ${call.attempts} of POST ${call.url} failed (${failed}); retrying in ${Math.round(wait)} ms`);
    call.wait = wait;
    call.waiting = true;
    call.sent = false;
    return true;
  }

  function errorFor(call: Call, failure: Failure): ClawbackError {
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

  /** Any failure as clawback's error; never one of ky's (they carry the `Request`, and with it the key). */
  function toClawbackError(call: Call, error: unknown): ClawbackError {
    if (ClawbackError.isInstance(error)) return error as ClawbackError;
    // The signal fired while ky slept before a retry (ky rejects with the signal's reason).
    if (call.waiting && call.signal?.aborted && call.failure) return interrupted(call, 'aborted', true);
    const failure = call.failure && call.failure.source === error ? call.failure : classify(call, error);
    return errorFor(call, failure);
  }

  // ---- the ky instance, made once ------------------------------------------------------------
  // The rate-limit slot for each attempt, when there is a limit: hooks cost every call a few µs.
  const slotHooks = limiter && {
    beforeRequest: (({ options }) => {
      const call = callOf(options);
      if (call) return takeSlot(limiter, call, false);
    }) satisfies BeforeRequestHook,
    beforeRetry: (({ options }) => {
      const call = callOf(options);
      if (call) return takeSlot(limiter, call, true);
    }) satisfies BeforeRetryHook,
  };
  /** What the caller's ky instance does that clawback must allow for; set when it is extended. */
  const callerHooks = { changeRequests: false, readResponses: false };

  const client = ((config.ky as KyInstance | undefined) ?? ky).extend((parent: Options) => {
    if (config.fetch && parent.fetch) {
      throw new ValidationError([{ path: 'fetch', message: 'is set, and so is the fetch of the ky instance given as `ky`: pass one of them' }], {
        context: 'Invalid provider settings',
        provider,
      });
    }
    // Looked up per call, so whatever patches the global fetch later (msw) is used.
    const baseFetch: FetchFunction = config.fetch ?? parent.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const hooks = parent.hooks ?? {};
    callerHooks.changeRequests = Boolean(hooks.beforeRequest?.length || hooks.beforeRetry?.length);
    callerHooks.readResponses = Boolean(hooks.afterResponse?.length || parent.onDownloadProgress);
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
        return call ? exchange(call, baseFetch, input, rest) : baseFetch(input, rest);
      }) as Options['fetch'],
    };
  });

  async function post(request: VendorRequest): Promise<VendorResponse> {
    const { fixed, headers: settingsHeaders } = prepare();
    const options = request.options;
    const callHeaders = options?.headers;
    const totalTimeout = options?.totalTimeout ?? config.totalTimeout;
    const call: Call = {
      request,
      // Serialised once: every attempt sends the very same bytes.
      body: JSON.stringify(request.body),
      fixedHeaders: fixed,
      signal: options?.signal,
      timeoutMs: options?.timeout ?? config.timeout,
      maxRetries: options?.maxRetries ?? config.maxRetries,
      totalTimeout,
      deadline: totalTimeout === undefined ? Number.POSITIVE_INFINITY : performance.now() + totalTimeout,
      slot: undefined,
      attempts: 0,
      url: '',
      sent: false,
      attemptTimeoutMs: 0,
      answer: undefined,
      failure: undefined,
      wait: 0,
      waiting: false,
      outOfTime: false,
      earlierAmbiguous: undefined,
      finished: false,
    };
    if (!limiter && call.signal?.aborted) throw interrupted(call, 'aborted', false);
    try {
      const response = await client.post(request.path, {
        ...(sendsBody ? {} : { body: call.body }),
        headers: callHeaders ? { ...settingsHeaders, ...lowerCaseNames(callHeaders), ...fixed } : settingsHeaders,
        ...(call.signal ? { signal: call.signal } : {}),
        timeout: call.timeoutMs,
        totalTimeout: totalTimeout ?? false,
        retry: {
          limit: call.maxRetries,
          shouldRetry: (state) => shouldRetry(call, state),
          delay: () => call.wait,
        },
        [CALL]: call,
      } as Options);
      // A caller's ky hook can stop the retries (ky.stop) without an answer.
      if (!response) throw toClawbackError(call, call.failure?.source ?? new Error('a ky hook stopped the call'));
      // A caller's afterResponse hook may have answered with a Response of its own: read it the same way.
      let answer = answers.get(response);
      if (!answer) {
        const { text, oversized } = await readCapped(response);
        answer = answerOf(response, text, oversized);
      }
      return {
        status: answer.status,
        body: answer.body,
        requestId: answer.requestId,
        oversized: answer.oversized,
        earlierAmbiguous: call.earlierAmbiguous,
        responseHeaders: answer.headers,
        attempts: call.attempts,
      };
    } catch (error) {
      throw toClawbackError(call, error);
    } finally {
      call.finished = true;
      releaseSlot(call);
    }
  }

  function parse<T>(schema: Schema<T>, response: VendorResponse, request: VendorRequest): T {
    if (response.oversized) {
      throw new ResponseValidationError(
        `${vendor} answered ${response.status} with a body over ${MAX_RESPONSE_BYTES} bytes, which clawback does not read.${outcomeNote(request)}`,
        { ...responseDetails(response, request), retryable: request.dedupes, ambiguous: true },
      );
    }
    const result = schema.safeParse(response.body);
    if (result.success) return response.body as T;
    const info = config.readError(response.body);
    const declaredFailure = info.code !== undefined || info.message !== undefined;
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(body)',
      message: describeSchemaIssue(issue),
    }));
    const what = declaredFailure
      ? `reported a failure (${[info.code, info.message].filter(Boolean).join(': ')})`
      : `sent a body that does not match its documented schema (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`;
    const earlier = declaredFailure && response.earlierAmbiguous ? ` An earlier attempt of this call may have applied the refund (it ended in ${response.earlierAmbiguous}).` : '';
    throw new ResponseValidationError(`${vendor} answered ${response.status} but ${what}.${declaredFailure ? earlier : outcomeNote(request)}`, {
      ...responseDetails(response, request),
      code: info.code,
      requestId: info.requestId ?? response.requestId,
      retryable: !declaredFailure && request.dedupes,
      ambiguous: !declaredFailure || earlier !== '',
      issues,
    });
  }

  /** What to do about a 2xx we could not read: the vendor probably applied the refund. */
  function outcomeNote(request: VendorRequest): string {
    return request.dedupes
      ? ' The refund was probably applied; retrying with the same idempotencyKey is safe and returns its state.'
      : ` The refund was probably applied; do not repeat it: ${request.notIdempotentReason ?? 'the vendor does not deduplicate it'}.`;
  }

  function responseDetails(response: VendorResponse, request: VendorRequest): ClawbackErrorDetails {
    return {
      provider,
      status: response.status,
      requestId: response.requestId,
      body: response.body,
      responseHeaders: response.responseHeaders && redactHeaders(response.responseHeaders, redact),
      idempotencyKey: request.idempotencyKey,
      attempts: response.attempts,
    };
  }

  async function send<T>(request: VendorRequest, schema: Schema<T>) {
    const response = await post(request);
    return { data: parse(schema, response, request), response };
  }

  return { post, parse, send };
}
