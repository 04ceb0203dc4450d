import type { ClawbackError, ClawbackErrorDetails } from './errors.js';
import type { ObservabilitySettings } from './hooks.js';
import type { RateLimit, RateLimitStore, Slot } from './rate-limiter.js';
import type { Redactor } from './redaction.js';
import type { FailureKind } from './retry.js';
import type { KyInstanceLike } from './settings.js';
import type { Schema } from './validation.js';
import type { RefundLedger } from './ledger.js';
import type { CallOptions, ProviderName, RefundCall, RefundResult } from '../spec/refund-provider-v1.js';

// The vocabulary the transport's files share: what a provider hands the transport, what it gets
// back, and the state one call keeps across its attempts and ky's hooks.

/** A `fetch` of your own for a provider's `fetch` setting (a proxy agent, instrumentation); the global one by default. */
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
  /** The fleet's refund ledger, when there is one. */
  ledger?: RefundLedger | undefined;
  /** Where the rate budget lives when it is shared; this process alone otherwise. */
  rateLimitStore?: RateLimitStore | undefined;
  /** What the vendor counts its rate limit by, from the auth headers. */
  rateLimitUnit?: ((headers: Record<string, string>) => string) | undefined;
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

export interface Transport {
  /** POSTs `request.body` as JSON, retrying where safe. Resolves with any 2xx; throws a `ClawbackError` otherwise. */
  post(request: VendorRequest): Promise<VendorResponse>;
  /**
   * Validates a 2xx body against the vendor's documented schema, or throws
   * `ResponseValidationError`. Returns the body as received (secrets redacted): a "__proto__"
   * key stays data, and nothing is renamed, reordered or dropped. `meaningless` names a
   * documented field whose value the vendor's document gives no meaning (Affixo `"ok": false`):
   * the call then fails, flagged ambiguous, quoting what the vendor sent.
   */
  parse<T>(schema: Schema<T>, response: VendorResponse, request: VendorRequest, meaningless?: Meaningless<T>): T;
  /**
   * Runs one of the provider's calls so that only a `ClawbackError` leaves it: anything else
   * (a bug) becomes `unexpectedFailure`, flagged ambiguous, its message redacted.
   */
  guard<T>(work: () => Promise<T>): Promise<T>;
  /**
   * `refund()` on this provider: `run(call)` guarded, and, with a ledger, claimed first and
   * recorded after. `dedupes`: the vendor itself deduplicates this refund under its key.
   */
  refund(call: RefundCall, dedupes: boolean, run: (call: RefundCall) => Promise<RefundResult>): Promise<RefundResult>;
  /** `post` then `parse`: the whole call for a vendor without quirks between the two. */
  send<T>(request: VendorRequest, schema: Schema<T>, meaningless?: Meaningless<T>): Promise<{ data: T; response: VendorResponse }>;
}

/** The documented field of a 2xx body whose value the document gives no meaning (`"ok": false`), or undefined. */
export type Meaningless<T> = (body: T) => string | undefined;

/** A vendor's answer as clawback read it: bounded, redacted, parsed. */
export interface Answer extends VendorResponse {
  headers: Headers;
  /** The whole body read, redacted (for a ky hook that reads the response). */
  text: string;
}

/** A failed attempt, classified for the retry decision and the error. */
export interface Failure {
  kind: FailureKind;
  retryAfter?: number | undefined;
  /** The ky error (or fetch error) it describes. */
  source: unknown;
  toError(details: ClawbackErrorDetails, note: string): ClawbackError;
}

/** Everything one call shares across its attempts and ky's hooks. */
export interface Call {
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
export const CALL = 'clawbackCall';
export const callOf = (options: object): Call | undefined => (options as { [CALL]?: Call })[CALL];

/** Lets the call's rate-limit slot go: the limiter counts from completion. */
export function releaseSlot(call: Call, slot = call.slot): void {
  if (slot?.outcome === 'acquired') slot.done();
  if (call.slot === slot) call.slot = undefined;
}

/** What needs the credentials, built on a transport's first call (the key may come from the environment, read then). */
export interface Prepared {
  /** clawback's own headers (credentials included), which no caller setting or hook replaces. */
  fixed: Record<string, string>;
  /** The provider's `headers` setting with the fixed ones over it. */
  headers: Record<string, string>;
  redactor: Redactor;
  sign: Credentials['sign'];
}

/** One transport's state, shared by its files. */
export interface TransportContext {
  config: TransportConfig;
  prepare(): Prepared;
  /** Redacts every secret the credentials hold (nothing before they are read). */
  redact(text: string): string;
  /** Answers read by clawback's fetch, by the Response handed to ky. */
  answers: WeakMap<Response, Answer>;
  /** What the caller's ky instance does that clawback must allow for; set when it is extended. */
  callerHooks: { changeRequests: boolean; readResponses: boolean };
  /**
   * Without a caller's ky instance, clawback knows everything ky's Request holds, so its fetch
   * sends the body itself, as the string `post` serialised (undici writes a string in one go;
   * measured: 15 % more throughput than a Request's stream, bench/RESULTS.md), and `post` gives
   * ky no body at all, so ky's Request and its retry clone build and tee no stream. A caller's
   * instance may have hooks that read or replace the Request: then the body goes through ky and
   * the Request is sent as it is.
   */
  sendsBody: boolean;
}
