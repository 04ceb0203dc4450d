import { describeSchemaIssue, type Schema } from './validation.js';
import {
  AbortedError,
  ApiError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseValidationError,
  ServerError,
  TimeoutError,
  type ClawbackError,
  type ClawbackErrorDetails,
} from './errors.js';
import { log, notify, redactHeaders, type ObservabilitySettings } from './hooks.js';
import { SlidingWindowLimiter, type RateLimit, type Slot, type SlotOutcome } from './rate-limiter.js';
import { MAX_RETRY_AFTER_MS, backoffDelay, isSafeToRetry, parseRetryAfter, type FailureKind } from './retry.js';
import type { CallOptions, ProviderName } from '../spec/refund-provider-v1.js';
import { VERSION } from '../version.js';

export type FetchFunction = (input: Request | URL | string, init?: RequestInit) => Promise<Response>;

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

export interface TransportConfig {
  provider: ProviderName;
  /** The vendor's name as users know it, for messages: "Affonso". */
  vendor: string;
  baseURL: string;
  /**
   * Resolves the API key and the auth headers (lower-case names, so they replace any a caller
   * set). Throws `ValidationError` before any request when missing.
   */
  credentials: () => { apiKey: string; headers: Record<string, string> };
  headers: Record<string, string>;
  fetch: FetchFunction | undefined;
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
  /** Parsed JSON, or undefined for an empty body. */
  body: unknown;
  requestId: string | undefined;
  /** The body was larger than clawback reads (`MAX_RESPONSE_BYTES`) and was not parsed. */
  oversized: boolean;
}

type Attempt =
  | { kind: 'response'; response: Response; text: string; oversized: boolean }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'connection'; error: unknown };

/** A failed attempt, before we know whether it will be retried. */
interface Failure {
  kind: FailureKind;
  retryAfter?: number | undefined;
  toError(details: ClawbackErrorDetails, note: string): ClawbackError;
}

const MAX_BODY_TEXT_IN_ERRORS = 2_000;

/** Response bodies are read up to this size; a vendor's refund answer is a few kilobytes. */
export const MAX_RESPONSE_BYTES = 1_048_576;

/** The body as text, read in chunks and stopped past `limit` bytes; `oversized` when there was more. */
async function readCapped(response: Response, limit: number): Promise<{ text: string; oversized: boolean }> {
  if (!response.body) return { text: '', oversized: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), oversized: false };
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return { text, oversized: true };
    }
    text += decoder.decode(value, { stream: true });
  }
}

// Connection failures that happen before any byte of the request is written, so the vendor
// cannot have acted on it. Undici nests the system error under `cause` (and under
// AggregateError `errors` when several addresses were tried).
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

function errorCodes(error: unknown, depth = 0): string[] {
  if (typeof error !== 'object' || error === null || depth > 5) return [];
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  const codes = typeof code === 'string' ? [code] : [];
  codes.push(...errorCodes(cause, depth + 1));
  if (Array.isArray(errors)) for (const inner of errors) codes.push(...errorCodes(inner, depth + 1));
  return codes;
}

function neverSent(error: unknown): boolean {
  const codes = errorCodes(error);
  return codes.length > 0 && codes.every((code) => NOT_SENT_CODES.has(code));
}

/**
 * A plain stand-in for a low-level failure, kept as `cause`. The originals (a custom fetch's
 * errors, say) can hold the `Request`, whose headers carry the API key.
 */
function sanitizedCause(error: unknown, redact: (text: string) => string): Error {
  const codes = errorCodes(error);
  const innermost = (function deepest(value: unknown, depth: number): unknown {
    const cause = (value as { cause?: unknown } | null)?.cause;
    return cause !== undefined && depth < 5 ? deepest(cause, depth + 1) : value;
  })(error, 0);
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  const cause = new Error(redact(message));
  if (codes[0]) Object.assign(cause, { code: codes[0] });
  return cause;
}

/** Replaces the API key wherever a vendor or a custom fetch echoes it back. */
function redactor(secret: string): (text: string) => string {
  return (text) => (secret.length >= 4 && text.includes(secret) ? text.split(secret).join('[redacted]') : text);
}

function parseBody(text: string): unknown {
  if (!/\S/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text.length > MAX_BODY_TEXT_IN_ERRORS ? `${text.slice(0, MAX_BODY_TEXT_IN_ERRORS)}…` : text;
  }
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
 * The caller's headers, then clawback's: the body is JSON and the answer read as JSON, and the
 * credentials are the provider's, whatever the caller set. A caller's User-Agent is kept, with
 * clawback's appended.
 */
function withFixedHeaders(headers: Record<string, string>, authHeaders: Record<string, string>): Record<string, string> {
  const agent = headers['user-agent'];
  return {
    ...headers,
    'user-agent': agent ? `${agent} ${USER_AGENT}` : USER_AGENT,
    accept: 'application/json',
    'content-type': 'application/json',
    ...authHeaders,
  };
}

const NO_LIMIT: Slot = { outcome: 'acquired', done: () => {} };
const ABORTED: Slot = { outcome: 'aborted' };

function sleep(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface Transport {
  /** POSTs `request.body` as JSON, retrying where safe. Resolves with any 2xx; throws a `ClawbackError` otherwise. */
  post(request: VendorRequest): Promise<VendorResponse>;
  /** Validates a 2xx body against the vendor's documented schema, or throws `ResponseValidationError`. */
  parse<T>(schema: Schema<T>, response: VendorResponse, request: VendorRequest): T;
  /** `post` then `parse`: the whole call for a vendor without quirks between the two. */
  send<T>(request: VendorRequest, schema: Schema<T>): Promise<{ data: T; response: VendorResponse }>;
}

export function createTransport(config: TransportConfig): Transport {
  const { provider, vendor } = config;
  // Plain fetch, not ky: ky cost 34-80 µs of CPU per call over fetch (bench/RESULTS.md) and
  // 8 kB of the bundle, for a URL join, JSON.stringify and a header merge.
  const baseURL = config.baseURL.replace(/\/+$/, '');
  // The global fetch is looked up per call, so whatever patches it later (msw) is used.
  const fetchFunction = config.fetch ?? ((input: string, init: RequestInit) => globalThis.fetch(input, init));
  const userHeaders = lowerCaseNames(config.headers);

  const { logger, onRequest, onResponse } = config.observe;
  const observed = Boolean(logger?.debug || onRequest || onResponse);

  async function attemptOnce(
    url: string,
    init: { headers: Record<string, string>; body: string },
    signal: AbortSignal | undefined,
    timeoutMs: number,
    slot: Slot,
    observation: { request: VendorRequest; attempt: number; redact: (text: string) => string } | undefined,
  ): Promise<Attempt> {
    if (!observation) return exchange(url, init, signal, timeoutMs, slot);
    const { request, attempt, redact } = observation;
    const base = { provider, method: 'POST' as const, url, attempt, idempotencyKey: request.idempotencyKey };
    const sent = { ...base, headers: redactHeaders(Object.entries(init.headers), redact), body: request.body };
    notify('onRequest', onRequest, sent, logger);
    log(logger, 'debug', `clawback: POST ${url} (attempt ${attempt})`, sent);
    const started = performance.now();
    const result = await exchange(url, init, signal, timeoutMs, slot);
    const response = result.kind === 'response' ? result.response : undefined;
    const received = {
      ...base,
      status: response?.status,
      headers: response ? redactHeaders(response.headers, redact) : {},
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(result.kind === 'response' ? {} : { failure: result.kind }),
    };
    notify('onResponse', onResponse, received, logger);
    log(logger, 'debug', `clawback: ${response ? response.status : result.kind} from POST ${url} in ${received.durationMs} ms`, received);
    return result;
  }

  async function exchange(
    url: string,
    init: { headers: Record<string, string>; body: string },
    signal: AbortSignal | undefined,
    timeoutMs: number,
    slot: Slot,
  ): Promise<Attempt> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const forwardAbort = () => controller.abort();
    signal?.addEventListener('abort', forwardAbort, { once: true });
    try {
      // One signal covers the whole exchange, headers and body, so `timeout` bounds both.
      const response = await fetchFunction(url, { method: 'POST', ...init, signal: controller.signal });
      // Usually the length is declared and small: read it whole, without the chunked reader.
      if (Number(response.headers.get('content-length') ?? Number.NaN) <= MAX_RESPONSE_BYTES) {
        return { kind: 'response', response, text: await response.text(), oversized: false };
      }
      const { text, oversized } = await readCapped(response, MAX_RESPONSE_BYTES);
      return { kind: 'response', response, text, oversized };
    } catch (error) {
      if (timedOut) return { kind: 'timeout' };
      if (signal?.aborted) return { kind: 'aborted' };
      return { kind: 'connection', error };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', forwardAbort);
      if (slot.outcome === 'acquired') slot.done(); // the rate limiter counts from completion
    }
  }

  function describeFailure(
    attempt: Exclude<Attempt, { kind: 'response' }> | { kind: 'http'; response: Response; body: unknown },
    redact: (text: string) => string,
    timeoutMs: number,
  ): Failure {
    switch (attempt.kind) {
      case 'timeout':
        return {
          kind: 'ambiguous',
          toError: (details, note) =>
            new TimeoutError(`${vendor} did not answer within ${timeoutMs} ms.${note}`, details),
        };
      case 'aborted':
        return {
          kind: 'ambiguous',
          toError: (details, note) => new AbortedError(`The ${vendor} call was aborted.${note}`, details),
        };
      case 'connection': {
        const notSent = neverSent(attempt.error);
        const cause = sanitizedCause(attempt.error, redact);
        return {
          kind: notSent ? 'not-sent' : 'ambiguous',
          toError: (details, note) =>
            new ConnectionError(
              `Could not reach ${vendor}${notSent ? ' (the request was not sent)' : ''}: ${cause.message}.${note}`,
              { ...details, cause },
            ),
        };
      }
      case 'http': {
        const { response, body } = attempt;
        const status = response.status;
        const info = config.readError(body);
        const retryAfter = parseRetryAfter(response.headers.get('retry-after')) ?? info.retryAfter;
        const requestId = info.requestId ?? response.headers.get('x-request-id') ?? undefined;
        const code = info.code;
        const summary = `${vendor} answered ${status}${code ? ` ${code}` : ''}${info.message ? `: ${info.message}` : ''}`;
        return {
          kind: failureKindForStatus(status, info),
          retryAfter,
          toError: (details, note) => {
            const all = { ...details, status, code, requestId, body };
            const message = `${summary.replace(/\.$/, '')}.${note}`;
            if (status === 403) return new PermissionDeniedError(message, { ...all, need: info.need });
            if (status === 429) return new RateLimitError(message, { ...all, retryAfter });
            if (status >= 500) return new ServerError(message, all);
            return new (apiErrorClasses[status] ?? ApiError)(message, all);
          },
        };
      }
    }
  }

  const limiter = config.rateLimit.length > 0 ? new SlidingWindowLimiter(config.rateLimit) : undefined;

  // Everything per-transport that needs the API key, built on the first call (credentials are
  // resolved lazily) and reused: the request headers and the redactor.
  let prepared:
    | { headers: Record<string, string>; authHeaders: Record<string, string>; redact: (text: string) => string }
    | undefined;
  function prepare() {
    if (!prepared) {
      const { apiKey, headers: authHeaders } = config.credentials();
      prepared = {
        headers: withFixedHeaders(userHeaders, authHeaders),
        authHeaders,
        redact: redactor(apiKey),
      };
    }
    return prepared;
  }

  async function post(request: VendorRequest): Promise<VendorResponse> {
    const { headers: settingsHeaders, authHeaders, redact } = prepare();
    const callHeaders = request.options?.headers;
    const headers = callHeaders
      ? withFixedHeaders({ ...userHeaders, ...lowerCaseNames(callHeaders) }, authHeaders)
      : settingsHeaders;
    const url = `${baseURL}/${request.path}`;
    // Serialised once: every retry sends the very same bytes.
    const init = { headers, body: JSON.stringify(request.body) };
    const signal = request.options?.signal;
    const timeoutMs = request.options?.timeout ?? config.timeout;
    const maxRetries = request.options?.maxRetries ?? config.maxRetries;
    const totalTimeout = request.options?.totalTimeout ?? config.totalTimeout;
    const deadline = totalTimeout === undefined ? Number.POSITIVE_INFINITY : performance.now() + totalTimeout;
    const base = { provider, idempotencyKey: request.idempotencyKey };
    // A slot from the rate limiter for each attempt, released when that attempt completes.
    const acquire = (): Slot | Promise<Slot> =>
      limiter ? limiter.acquire(signal, deadline) : signal?.aborted ? ABORTED : NO_LIMIT;

    let slot = await acquire();
    if (slot.outcome === 'aborted') {
      throw new AbortedError(`The ${vendor} call was aborted before it was sent.`, { ...base, retryable: true });
    }
    if (slot.outcome === 'deadline') {
      throw new TimeoutError(
        `The ${vendor} call was not sent: clawback's rate limit for ${vendor} would hold it past its totalTimeout (${totalTimeout} ms). It is safe to retry.`,
        { ...base, retryable: true },
      );
    }
    for (let attemptNumber = 1; ; attemptNumber++) {
      const attemptTimeout = Math.max(1, Math.min(timeoutMs, deadline - performance.now()));
      const attempt = await attemptOnce(
        url,
        init,
        signal,
        attemptTimeout,
        slot,
        observed ? { request, attempt: attemptNumber, redact } : undefined,
      );
      // Redacted once, before parsing, so no result, error body or message can carry the key.
      const body = attempt.kind === 'response' ? parseBody(redact(attempt.text)) : undefined;
      if (attempt.kind === 'response' && attempt.response.ok) {
        return {
          status: attempt.response.status,
          body,
          requestId: attempt.response.headers.get('x-request-id') ?? undefined,
          oversized: attempt.oversized,
        };
      }
      const failure = describeFailure(
        attempt.kind === 'response' ? { kind: 'http', response: attempt.response, body } : attempt,
        redact,
        attemptTimeout,
      );
      const retryable = isSafeToRetry(failure.kind, request.dedupes);
      const ambiguous = failure.kind === 'ambiguous';
      const wait = failure.retryAfter ?? backoffDelay(attemptNumber);

      // Why a retry that was due did not happen, if one was due.
      let interruption: SlotOutcome | undefined;
      if (retryable && attempt.kind !== 'aborted' && attemptNumber <= maxRetries && wait <= MAX_RETRY_AFTER_MS) {
        if (performance.now() + wait >= deadline) interruption = 'deadline';
        else {
          const failed = attempt.kind === 'response' ? attempt.response.status : attempt.kind;
          log(logger, 'warn', `clawback: attempt ${attemptNumber} of POST ${url} failed (${failed}); retrying in ${Math.round(wait)} ms`);
          if (!(await sleep(wait, signal))) interruption = 'aborted';
        }
        if (!interruption) {
          slot = await acquire();
          if (slot.outcome === 'acquired') continue;
          interruption = slot.outcome;
        }
      }

      const notes: string[] = [];
      if (attemptNumber > 1) notes.push(`Gave up after ${attemptNumber} attempts.`);
      if (interruption === 'deadline') notes.push(`No time was left for a retry within totalTimeout (${totalTimeout} ms).`);
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
      const lastError = failure.toError({ ...base, retryable, ambiguous }, notes.length ? ` ${notes.join(' ')}` : '');
      if (interruption === 'aborted') {
        // The signal fired while waiting to retry: report the abort, keeping what the last attempt saw.
        throw new AbortedError(`The ${vendor} call was aborted while waiting to retry. Last attempt: ${lastError.message}`, {
          ...base,
          retryable,
          ambiguous,
          cause: lastError,
        });
      }
      throw lastError;
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
    if (result.success) return result.data;
    const info = config.readError(response.body);
    const declaredFailure = info.code !== undefined || info.message !== undefined;
    const issues = result.error.issues.map((issue) => ({
      path: issue.path.map(String).join('.') || '(body)',
      message: describeSchemaIssue(issue),
    }));
    const what = declaredFailure
      ? `reported a failure (${[info.code, info.message].filter(Boolean).join(': ')})`
      : `sent a body that does not match its documented schema (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`;
    throw new ResponseValidationError(`${vendor} answered ${response.status} but ${what}.${declaredFailure ? '' : outcomeNote(request)}`, {
      ...responseDetails(response, request),
      code: info.code,
      requestId: info.requestId ?? response.requestId,
      retryable: !declaredFailure && request.dedupes,
      ambiguous: !declaredFailure,
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
      idempotencyKey: request.idempotencyKey,
    };
  }

  async function send<T>(request: VendorRequest, schema: Schema<T>) {
    const response = await post(request);
    return { data: parse(schema, response, request), response };
  }

  return { post, parse, send };
}
