import type { Options } from 'ky';
import { ResponseValidationError, unexpectedFailure, type ClawbackErrorDetails } from './errors.js';
import { interrupted, toClawbackError } from './failures.js';
import { redactHeaders } from './hooks.js';
import { createKyInstance, shouldRetry } from './ky-instance.js';
import { sha256Hex } from './hmac.js';
import { LEDGER_RULES, LEDGER_TOTAL_TIMEOUT_MS } from './ledger.js';
import { log } from './hooks.js';
import { RateLimiter } from './rate-limiter.js';
import { createRedactor } from './redaction.js';
import { MAX_RESPONSE_BYTES, readCapped } from './response-body.js';
import {
  CALL,
  releaseSlot,
  type Call,
  type Meaningless,
  type Prepared,
  type Transport,
  type TransportConfig,
  type TransportContext,
  type VendorRequest,
  type VendorResponse,
} from './transport-types.js';
import { describeSchemaIssue, type Schema } from './validation.js';
import { answerOf } from './vendor-fetch.js';
import type { RefundCall, RefundResult } from '../spec/refund-provider-v1.js';
import { VERSION } from '../version.js';


export type { Credentials, FetchFunction, Transport, TransportConfig, VendorErrorInfo, VendorRequest, VendorResponse } from './transport-types.js';
export { MAX_RESPONSE_BYTES };

const MAX_QUOTE = 500;

/** A body as a message quotes it: JSON, cut short when long (secrets were redacted when it was read). */
function quote(body: unknown): string {
  const text = typeof body === 'string' ? body : (JSON.stringify(body) ?? String(body));
  return text.length > MAX_QUOTE ? `${text.slice(0, MAX_QUOTE)}…` : text;
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

/** One provider's way to its vendor: every refund call, its attempts, and how its answer is read. */
export function createTransport(config: TransportConfig): Transport {
  const { provider, vendor } = config;
  const callerHeaders = lowerCaseNames(config.headers);
  const { logger } = config.observe;
  // A shared budget is keyed by a fingerprint of what the vendor counts by (no secret stored);
  // one process's own budget needs no name.
  const limiter =
    config.rateLimit.length === 0
      ? undefined
      : config.rateLimitStore
        ? new RateLimiter(
            config.rateLimit,
            config.rateLimitStore,
            async () => (await sha256Hex(JSON.stringify(['clawback.ratelimit.v1', provider, config.rateLimitUnit?.(config.credentials().headers) ?? '']))).slice(0, 32),
            // A slot in flight longer than an attempt can last belongs to a process that died.
            { leaseMs: config.timeout + 10_000, warn: (message) => log(logger, 'warn', message) },
          )
        : new RateLimiter(config.rateLimit);

  let prepared: Prepared | undefined;
  const context: TransportContext = {
    config,
    prepare() {
      if (!prepared) {
        const { headers: authHeaders, secrets, sign } = config.credentials();
        const fixed = fixedHeaders(callerHeaders, authHeaders);
        prepared = { fixed, headers: { ...callerHeaders, ...fixed }, redactor: createRedactor(secrets), sign };
      }
      return prepared;
    },
    redact: (text) => (prepared ? prepared.redactor.text(text) : text),
    answers: new WeakMap(),
    callerHooks: { changeRequests: false, readResponses: false },
    sendsBody: config.ky === undefined,
  };
  const client = createKyInstance(context, limiter);

  async function post(request: VendorRequest): Promise<VendorResponse> {
    const { fixed, headers: settingsHeaders } = context.prepare();
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
    if (!limiter && call.signal?.aborted) throw interrupted(context, call, 'aborted', false);
    try {
      const response = await client.post(request.path, {
        ...(context.sendsBody ? {} : { body: call.body }),
        headers: callHeaders ? { ...settingsHeaders, ...lowerCaseNames(callHeaders), ...fixed } : settingsHeaders,
        ...(call.signal ? { signal: call.signal } : {}),
        timeout: call.timeoutMs,
        totalTimeout: totalTimeout ?? false,
        retry: {
          limit: call.maxRetries,
          shouldRetry: (state) => shouldRetry(context, call, state),
          delay: () => call.wait,
        },
        [CALL]: call,
      } as Options);
      // A caller's ky hook can stop the retries (ky.stop) without an answer.
      if (!response) throw toClawbackError(context, call, call.failure?.source ?? new Error('a ky hook stopped the call'));
      // A caller's afterResponse hook may have answered with a Response of its own: read it the same way.
      let answer = context.answers.get(response);
      if (!answer) {
        const { text, oversized } = await readCapped(response);
        answer = answerOf(context, response, text, oversized);
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
      throw toClawbackError(context, call, error);
    } finally {
      call.finished = true;
      releaseSlot(call);
    }
  }

  function parse<T>(schema: Schema<T>, response: VendorResponse, request: VendorRequest, meaningless?: Meaningless<T>): T {
    if (response.oversized) {
      throw new ResponseValidationError(
        `${vendor} answered ${response.status} with a body over ${MAX_RESPONSE_BYTES} bytes, which clawback does not read.${outcomeNote(request)}`,
        { ...responseDetails(response, request), retryable: request.dedupes, ambiguous: true },
      );
    }
    const result = schema.safeParse(response.body);
    const odd = result.success ? meaningless?.(response.body as T) : undefined;
    if (result.success && odd === undefined) return response.body as T;
    const info = config.readError(response.body);
    const declaredFailure = info.code !== undefined || info.message !== undefined;
    const issues = result.success
      ? [{ path: '(body)', message: `${odd} has no documented meaning` }]
      : result.error.issues.map((issue) => ({
          path: issue.path.map(String).join('.') || '(body)',
          message: describeSchemaIssue(issue),
        }));
    const details = { ...responseDetails(response, request), code: info.code, requestId: info.requestId ?? response.requestId, issues };
    if (declaredFailure) {
      const earlier = response.earlierAmbiguous ? ` An earlier attempt of this call may have applied the refund (it ended in ${response.earlierAmbiguous}).` : '';
      throw new ResponseValidationError(
        `${vendor} answered ${response.status} but reported a failure (${[info.code, info.message].filter(Boolean).join(': ')}).${earlier}`,
        { ...details, retryable: false, ambiguous: earlier !== '' },
      );
    }
    const what =
      odd === undefined
        ? `but sent a body that does not match its documented schema (${issues.map((i) => `${i.path}: ${i.message}`).join('; ')})`
        : `with ${odd}, which its documentation gives no meaning (it sent ${quote(response.body)})`;
    throw new ResponseValidationError(`${vendor} answered ${response.status} ${what}.${outcomeNote(request)}`, {
      ...details,
      retryable: request.dedupes,
      ambiguous: true,
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
      responseHeaders: response.responseHeaders && redactHeaders(response.responseHeaders, context.redact),
      idempotencyKey: request.idempotencyKey,
      attempts: response.attempts,
    };
  }

  async function send<T>(request: VendorRequest, schema: Schema<T>, meaningless?: Meaningless<T>) {
    const response = await post(request);
    return { data: parse(schema, response, request, meaningless), response };
  }

  async function guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw unexpectedFailure(error, provider, context.redact);
    }
  }

  function refund(call: RefundCall, dedupes: boolean, run: (call: RefundCall) => Promise<RefundResult>): Promise<RefundResult> {
    const { ledger } = config;
    if (!ledger) return guard(() => run(call));
    // The rules come with the ledger (`defineLedger`), so a provider without one does not carry them.
    const credentials = () => config.credentials().headers;
    return guard(() => ledger[LEDGER_RULES]({ ledger, provider, vendor, credentials, logger, totalTimeout: config.totalTimeout ?? LEDGER_TOTAL_TIMEOUT_MS }, call, dedupes, run));
  }

  return { post, parse, send, guard, refund };
}
