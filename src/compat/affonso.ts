/**
 * `clawback/compat/affonso`: a drop-in for `@affonso/sdk` 1.x's refund call. Swap the import and
 * the same code runs: `new Affonso(apiKey, { baseUrl, timeout, maxRetries, fetch, signingSecret })`,
 * `affonso.conversions.refund(id, params)` resolving to the conversion, and the SDK's error
 * classes with their fields. Underneath it is clawback's Affonso provider, so where the SDK is
 * unsafe clawback stays safe: a refund without `external_event_id` is not retried after a
 * timeout or 5xx (the SDK does, and can refund twice), `Retry-After` is honoured (the SDK reads
 * `X-RateLimit-Reset`), and no error shows the key, even when Affonso echoes it.
 * https://docs.affonso.io/api/sdk/typescript
 */
import {
  AbortedError,
  ClawbackError,
  ConnectionError as ClawbackConnectionError,
  RateLimitError as ClawbackRateLimitError,
  ResponseValidationError,
  TimeoutError,
  ValidationError as ClawbackValidationError,
  registerCompatErrorClass,
  type ClawbackErrorDetails,
} from '../core/errors.js';
import type * as z from 'zod/mini';
import { compatKey } from '../core/credentials.js';
import type { FetchFunction } from '../core/transport-types.js';
import { expected, functionSchema, isPlainObject, maxRetriesSchema, nonEmptyString, optional, parseInput, strictObject, timeoutSchema } from '../core/validation.js';
import { createAffonso, type AffonsoProvider } from '../providers/affonso/affonso-provider.js';
import type { AffonsoConversion, AffonsoRefundBody } from '../providers/affonso/affonso-schemas.js';

export type { AffonsoConversion };
/** `conversions.refund()`'s second argument, as `@affonso/sdk` names it. */
export type RefundConversionParams = AffonsoRefundBody;

/** `new Affonso(apiKey, options)`'s options, as `@affonso/sdk` 1.x takes them (`baseUrl` ends in `/v1`). */
export interface AffonsoOptions {
  /** Default `https://api.affonso.io/v1` (with the `/v1`, as in `@affonso/sdk`). */
  baseUrl?: string;
  /** Milliseconds per attempt. Default 30 000. */
  timeout?: number;
  /** Default 2. Retries happen only where they cannot refund twice (see docs/errors.md). */
  maxRetries?: number;
  fetch?: FetchFunction;
  /** Signs each refund (`X-Affonso-Timestamp`, `X-Affonso-Signature`). Default: `AFFONSO_SIGNING_SECRET`, if set. */
  signingSecret?: string;
}

/** What an `AffonsoError` carries beyond clawback's details: Affonso's `field` and `details`, and the answer's headers. */
export interface AffonsoErrorDetails extends ClawbackErrorDetails {
  field?: string | undefined;
  details?: unknown;
  headers?: Headers | undefined;
  retryAfter?: number | undefined;
}

/** Every failure of this client, as `@affonso/sdk` names it; a `ClawbackError` too (`retryable`, `ambiguous`, `idempotencyKey`). */
export class AffonsoError extends ClawbackError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'AffonsoError', 'compat.affonso.AffonsoError');
  /** The field Affonso named as the problem, when it did. */
  readonly field: string | undefined;
  /** Affonso's `error.details`, or clawback's validation issues. */
  readonly details: unknown;
  /** The answer's headers (credentials redacted); empty when there was no answer. */
  readonly headers: Headers;

  constructor(message: string, details: AffonsoErrorDetails = {}) {
    super(message, details);
    this.field = details.field;
    this.details = details.details;
    this.headers = details.headers ?? new Headers();
  }
}

/** 400 `VALIDATION_ERROR`, or input clawback refused before sending anything (no `status`). */
export class ValidationError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'ValidationError', 'compat.affonso.ValidationError');
}
/** 401: missing, invalid, disabled or expired key (or a signature Affonso refused). */
export class AuthenticationError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'AuthenticationError', 'compat.affonso.AuthenticationError', ['ApiError', 'AuthenticationError']);
}
/** 403 `FORBIDDEN` / `INSUFFICIENT_PERMISSIONS`. */
export class PermissionError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'PermissionError', 'compat.affonso.PermissionError', ['ApiError', 'PermissionDeniedError']);
}
/** 404 `NOT_FOUND`. */
export class NotFoundError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'NotFoundError', 'compat.affonso.NotFoundError', ['ApiError', 'NotFoundError']);
}
/** 409 `DUPLICATE_ERROR`. */
export class DuplicateError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'DuplicateError', 'compat.affonso.DuplicateError', ['ApiError', 'ConflictError']);
}
/** 429 `RATE_LIMIT_EXCEEDED`. `retryAfter` is the wait Affonso asked for, in milliseconds (clawback's unit). */
export class RateLimitError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'RateLimitError', 'compat.affonso.RateLimitError', ['ApiError', 'RateLimitError']);
  readonly retryAfter: number | undefined;

  constructor(message: string, details: AffonsoErrorDetails = {}) {
    super(message, details);
    this.retryAfter = details.retryAfter;
  }
}
/** 500 and above. */
export class InternalError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'InternalError', 'compat.affonso.InternalError', ['ApiError', 'ServerError']);
}
/** No answer: refused, reset, DNS, timeout, aborted. `ambiguous` says whether Affonso may have acted on it. */
export class ConnectionError extends AffonsoError {
  static override readonly brand: symbol = registerCompatErrorClass(this, 'ConnectionError', 'compat.affonso.ConnectionError', ['ConnectionError']);
}

const classesByStatus: Record<number, typeof AffonsoError> = {
  400: ValidationError,
  401: AuthenticationError,
  403: PermissionError,
  404: NotFoundError,
  409: DuplicateError,
  422: ValidationError,
  429: RateLimitError,
};

/** Affonso's documented error codes, for a `success: false` under a 2xx (which has no telling status). */
const classesByCode: Record<string, typeof AffonsoError> = {
  VALIDATION_ERROR: ValidationError,
  UNAUTHORIZED: AuthenticationError,
  MISSING_API_KEY: AuthenticationError,
  INVALID_API_KEY: AuthenticationError,
  INVALID_API_KEY_FORMAT: AuthenticationError,
  API_KEY_DISABLED: AuthenticationError,
  API_KEY_EXPIRED: AuthenticationError,
  FORBIDDEN: PermissionError,
  INSUFFICIENT_PERMISSIONS: PermissionError,
  NOT_FOUND: NotFoundError,
  DUPLICATE_ERROR: DuplicateError,
  RATE_LIMIT_EXCEEDED: RateLimitError,
};

/** `isInstance` as a plain boolean: as a type guard over classes that differ only by brand it would narrow `error` to `never`. */
const is = (errorClass: { isInstance(value: unknown): boolean }, value: unknown): boolean => errorClass.isInstance(value);

function classFor(error: ClawbackError): typeof AffonsoError {
  if (is(ClawbackValidationError, error)) return ValidationError;
  if (is(ClawbackConnectionError, error) || is(TimeoutError, error) || is(AbortedError, error)) return ConnectionError;
  if (is(ResponseValidationError, error)) return (error.code && classesByCode[error.code]) || AffonsoError;
  if (error.status !== undefined && error.status >= 500) return InternalError;
  return (error.status !== undefined && classesByStatus[error.status]) || AffonsoError;
}

/** A clawback error as the SDK's class, keeping every field clawback set (and clawback's error as `cause`). */
function toAffonsoError(error: unknown): unknown {
  if (!ClawbackError.isInstance(error) || AffonsoError.isInstance(error)) return error;
  const envelope = isPlainObject(error.body) && isPlainObject(error.body.error) ? error.body.error : {};
  const local = ClawbackValidationError.isInstance(error) ? (error as ClawbackValidationError) : undefined;
  const ErrorClass = classFor(error);
  return new ErrorClass(error.message, {
    provider: error.provider,
    retryable: error.retryable,
    ambiguous: error.ambiguous,
    status: error.status,
    code: error.code ?? (local ? 'VALIDATION_ERROR' : undefined),
    requestId: error.requestId,
    body: error.body,
    responseHeaders: error.responseHeaders,
    idempotencyKey: error.idempotencyKey,
    attempts: error.attempts,
    field: typeof envelope.field === 'string' ? envelope.field : local?.field,
    details: 'details' in envelope ? envelope.details : local?.issues,
    headers: new Headers(error.responseHeaders),
    retryAfter: ClawbackRateLimitError.isInstance(error) ? (error as ClawbackRateLimitError).retryAfter : undefined,
    cause: error,
  });
}

const optionsSchema = strictObject(
  {
    baseUrl: optional(nonEmptyString('a URL such as "https://api.affonso.io/v1"')),
    timeout: optional(timeoutSchema),
    maxRetries: optional(maxRetriesSchema),
    fetch: optional(functionSchema<FetchFunction>()),
    signingSecret: optional(nonEmptyString()),
  },
  { error: expected('an options object like { baseUrl?, timeout?, maxRetries?, fetch?, signingSecret? }') },
);

/** `@affonso/sdk`'s `baseUrl` includes `/v1`; clawback's `baseURL` is what comes before it. */
function clawbackBaseURL(baseUrl: string): string {
  const match = /^(.*?)\/v1\/?$/i.exec(baseUrl.trim());
  if (match?.[1]) return match[1];
  throw new ValidationError(
    `Invalid Affonso options: baseUrl: must end with /v1, as @affonso/sdk's does ("https://api.affonso.io/v1"): the SDK sends refunds to {baseUrl}/conversions/{id}/refund`,
    { code: 'VALIDATION_ERROR', field: 'baseUrl' },
  );
}

/** A drop-in for `@affonso/sdk` 1.x's client, for its refund call: `affonso.conversions.refund(id, body)`, with the SDK's defaults and error classes, on clawback's transport (see docs/migrating.md). */
export class Affonso {
  readonly conversions: {
    /**
     * `POST {baseUrl}/conversions/{id}/refund`; resolves to the updated conversion (the
     * envelope's `data`). Retried after a timeout or 5xx only with `external_event_id`.
     */
    refund(id: string, params?: RefundConversionParams): Promise<AffonsoConversion>;
  };

  /** `apiKey` undefined (an unset `process.env` value): `AFFONSO_API_KEY` is read instead, as `createAffonso()` does. */
  constructor(apiKey: string | undefined, options: AffonsoOptions = {}) {
    let provider: AffonsoProvider;
    try {
      const key = compatKey(apiKey, {
        path: 'apiKey',
        envName: 'AFFONSO_API_KEY',
        pattern: /\S/,
        expected: 'your Affonso API key (new Affonso(apiKey, options))',
        context: 'Invalid Affonso options',
        provider: 'affonso',
      });
      const settings: z.output<typeof optionsSchema> = parseInput(optionsSchema, options ?? {}, 'Invalid Affonso options', 'affonso');
      provider = createAffonso({
        apiKey: key,
        baseURL: clawbackBaseURL(settings.baseUrl ?? 'https://api.affonso.io/v1'),
        timeout: settings.timeout ?? 30_000,
        maxRetries: settings.maxRetries ?? 2,
        // @affonso/sdk paces nothing; createAffonso({ plan }) does, to your plan's rate.
        rateLimit: false,
        ...(settings.fetch ? { fetch: settings.fetch } : {}),
        ...(settings.signingSecret ? { signingSecret: settings.signingSecret } : {}),
      });
    } catch (error) {
      throw toAffonsoError(error);
    }
    this.conversions = {
      refund: (id, params) => provider.conversions.refund(id, params ?? {}).catch((error: unknown) => Promise.reject(toAffonsoError(error))),
    };
  }
}

export default Affonso;
