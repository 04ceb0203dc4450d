import type { ProviderName } from '../spec/refund-provider-v1.js';

/** One problem with the input: `path` names the field (`amount.value`), `message` the reason. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** What a `ClawbackError` is built with: the provider, the vendor's answer (`status`, `code`, `requestId`, `body`), and whether it is retryable or ambiguous. */
export interface ClawbackErrorDetails {
  provider?: ProviderName | undefined;
  /**
   * True when repeating the same call with the same `idempotencyKey` cannot refund twice
   * and may succeed. False when the request was refused for good, or when its outcome is
   * unknown and the vendor does not deduplicate it (the message then says so).
   */
  retryable?: boolean | undefined;
  /**
   * True when this call failed but the refund may have been applied anyway: a timeout, a
   * connection dropped after the request was sent, a 408 or 5xx, a 2xx that could not be read.
   */
  ambiguous?: boolean | undefined;
  status?: number | undefined;
  code?: string | undefined;
  requestId?: string | undefined;
  body?: unknown;
  /** The answer's headers, lower-case names, credentials redacted (as hook events show them). */
  responseHeaders?: Record<string, string> | undefined;
  idempotencyKey?: string | undefined;
  /** Attempts sent before the call gave up (retries included). */
  attempts?: number | undefined;
  cause?: unknown;
}

const brandSymbol = (name: string) => Symbol.for(`clawback.error.${name}`);

/**
 * Marks an error class so `isInstance` works across duplicate copies of the package
 * (two versions in node_modules, or the ESM and CJS builds loaded side by side),
 * where `instanceof` fails. Also names the class without relying on minifiable `Function.name`.
 */
export function registerErrorClass(errorClass: { prototype: object }, name: string): symbol {
  const symbol = brandSymbol(name);
  Object.defineProperty(errorClass.prototype, symbol, { value: true });
  Object.defineProperty(errorClass.prototype, 'name', { value: name, writable: true, configurable: true });
  return symbol;
}

/**
 * @internal For the drop-in classes (`clawback/compat/*`), which keep their SDK's names: names the
 * class, brands it under its own key, and adds the brands of the clawback classes it stands for,
 * so `RateLimitError.isInstance(compatError)` is true where the meaning is the same.
 */
export function registerCompatErrorClass(errorClass: { prototype: object }, name: string, key: string, alsoBrandedAs: readonly string[] = []): symbol {
  const symbol = Symbol.for(`clawback.error.${key}`);
  Object.defineProperty(errorClass.prototype, symbol, { value: true });
  for (const other of alsoBrandedAs) Object.defineProperty(errorClass.prototype, brandSymbol(other), { value: true });
  Object.defineProperty(errorClass.prototype, 'name', { value: name, writable: true, configurable: true });
  return symbol;
}

/** The base of every error clawback throws: `retryable` (safe to call again with the same `idempotencyKey`), `ambiguous` (the refund may have been applied), and what the vendor answered. Test with `ClawbackError.isInstance(error)`, which works across copies of the package. */
export class ClawbackError extends Error {
  /** @internal */
  static readonly brand: symbol = registerErrorClass(this, 'ClawbackError');

  readonly provider: ProviderName | undefined;
  readonly retryable: boolean;
  readonly ambiguous: boolean;
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly requestId: string | undefined;
  readonly body: unknown;
  readonly responseHeaders: Record<string, string> | undefined;
  readonly idempotencyKey: string | undefined;
  readonly attempts: number | undefined;

  constructor(message: string, details: ClawbackErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.provider = details.provider;
    this.retryable = details.retryable ?? false;
    this.ambiguous = details.ambiguous ?? false;
    this.status = details.status;
    this.code = details.code;
    this.requestId = details.requestId;
    this.body = details.body;
    this.responseHeaders = details.responseHeaders;
    this.idempotencyKey = details.idempotencyKey;
    this.attempts = details.attempts;
  }

  /** `instanceof` that also recognises errors thrown by another copy of clawback. */
  static isInstance<T extends abstract new (...args: never[]) => ClawbackError>(
    this: T & { brand: symbol },
    value: unknown,
  ): value is InstanceType<T> {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[this.brand] === true;
  }

  /** Name, message and every field above (never a stack or request headers), for loggers and `JSON.stringify`. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, message: this.message, ...(this as object) };
  }
}

/** Input the SDK refuses before any network call. */
export class ValidationError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'ValidationError');
  readonly issues: ValidationIssue[];
  /** The first offending field, e.g. `amount.value`. */
  readonly field: string;

  constructor(issues: ValidationIssue[], details: ClawbackErrorDetails & { context?: string } = {}) {
    const summary = issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    super(`${details.context ?? 'Invalid input'}: ${summary}`, details);
    this.issues = issues;
    this.field = issues[0]?.path ?? '';
  }
}

/** The vendor answered with an HTTP error status. Subclasses name the common ones. */
export class ApiError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'ApiError');
  declare readonly status: number;
}

/**
 * 3xx: the vendor, or something in front of it, answered with a redirect. clawback never follows
 * one on a refund (a followed 301 turns the POST into a GET elsewhere, whose 200 would read as a
 * refund), so nothing reached `location` and nothing was refunded there. Not retried.
 */
export class RedirectError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'RedirectError');
  /** Where the answer pointed (redacted), when it said. */
  readonly location: string | undefined;

  constructor(message: string, details: ClawbackErrorDetails & { location?: string | undefined }) {
    super(message, details);
    this.location = details.location;
  }
}

/** 400 or 422: the vendor rejected the request's content. */
export class BadRequestError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'BadRequestError');
}

/** 401: the API key is missing, wrong, disabled or expired. */
export class AuthenticationError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'AuthenticationError');
}

/** 403: the key is valid but may not do this (Affixo `insufficient_scope`, with the scope it needs in `need`). */
export class PermissionDeniedError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'PermissionDeniedError');
  readonly need: string | undefined;

  constructor(message: string, details: ClawbackErrorDetails & { need?: string | undefined }) {
    super(message, details);
    this.need = details.need;
  }
}

/** 404 (and FirstPromoter's 204): the vendor has no such conversion or lead; nothing was refunded. */
export class NotFoundError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'NotFoundError');
}

/** 409 that is not a replay of this same refund (e.g. RefCampaign "not refundable (status: PENDING)"). */
export class ConflictError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'ConflictError');
}

/** 429. `retryAfter` is the wait the vendor asked for, in milliseconds, when it said. */
export class RateLimitError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'RateLimitError');
  readonly retryAfter: number | undefined;

  constructor(message: string, details: ClawbackErrorDetails & { retryAfter?: number | undefined }) {
    super(message, details);
    this.retryAfter = details.retryAfter;
  }
}

/** 5xx. Whether it is `retryable` depends on whether the vendor deduplicates this request. */
export class ServerError extends ApiError {
  static override readonly brand: symbol = registerErrorClass(this, 'ServerError');
}

/** No HTTP response: refused, reset, DNS failure. */
export class ConnectionError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'ConnectionError');
}

/** No complete response within `timeout`; the vendor may or may not have applied the refund. */
export class TimeoutError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'TimeoutError');
}

/** The caller's `AbortSignal` fired. */
export class AbortedError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'AbortedError');
}

/** A 2xx whose body does not match the vendor's documented schema, or says `success: false`. */
export class ResponseValidationError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'ResponseValidationError');
  readonly issues: ValidationIssue[];

  constructor(message: string, details: ClawbackErrorDetails & { issues?: ValidationIssue[] }) {
    super(message, details);
    this.issues = details.issues ?? [];
  }
}

/**
 * Any error as a `ClawbackError`. One that is not already (a bug, or a runtime refusing something
 * clawback did not expect) may have struck after the request was sent, so it is flagged ambiguous
 * and not retryable: check the refund at the vendor before sending it again. `redact` removes the
 * credentials from its message where the caller holds them.
 */
export function unexpectedFailure(error: unknown, provider: ProviderName | undefined, redact: (text: string) => string = (text) => text): ClawbackError {
  if (ClawbackError.isInstance(error)) return error as ClawbackError;
  const what = redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  return new ClawbackError(
    `clawback failed unexpectedly (${what}), and whether the refund was applied is not known: check it at the vendor before sending it again, under the same idempotencyKey if the vendor takes one. This is a bug in clawback or its provider; please report it.`,
    { provider, ambiguous: true, retryable: false, cause: error instanceof Error ? new Error(what) : undefined },
  );
}

/** Why a webhook was refused, as `WebhookVerificationError.code`. */
export type WebhookVerificationCode =
  | 'missing_signature'
  | 'malformed_signature'
  | 'signature_mismatch'
  | 'timestamp_out_of_tolerance'
  | 'invalid_json'
  | 'invalid_payload';

/**
 * A webhook that cannot be shown to come from the vendor, or whose body is not the vendor's
 * documented event: answer it with a 4xx and do not act on it. `code` says which check failed;
 * the message never contains the secret.
 */
export class WebhookVerificationError extends ClawbackError {
  static override readonly brand: symbol = registerErrorClass(this, 'WebhookVerificationError');
  declare readonly code: WebhookVerificationCode;

  constructor(code: WebhookVerificationCode, message: string, provider: ProviderName) {
    super(message, { code, provider });
  }
}
