/**
 * `clawback/compat/refcampaign`: a drop-in for `@refcampaign/sdk` 3.x's server client. Swap the
 * import and the same code runs: `new RefCampaignServer(secretKey, { apiUrl, timeoutMs, retry,
 * onError, debug })`, and `refundConversion({ orderId, amount?, reason? })`, which resolves to the
 * envelope's `data` and, like the SDK, never throws on an HTTP or network failure: it resolves
 * `{ success: false, error }` and calls `onError`. Underneath it is clawback's RefCampaign
 * provider, so where the SDK is unsafe clawback stays safe: a partial refund (RefCampaign cannot
 * deduplicate one) is never repeated after a failure that may have applied it, `Retry-After` is
 * honoured, and no error string shows the key, even when RefCampaign echoes it.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as z from 'zod/mini';
import { ClawbackError, ValidationError } from '../core/errors.js';
import { compatKey } from '../core/credentials.js';
import { notify } from '../core/hooks.js';
import { expected, functionSchema, integer, nonEmptyString, optional, parseInput, strictObject, timeoutSchema } from '../core/validation.js';
import { createRefCampaign, type RefCampaignProvider } from '../providers/refcampaign/refcampaign-provider.js';
import { refCampaignAmountSchema, refCampaignExternalIdSchema, refCampaignReasonSchema } from '../providers/refcampaign/refcampaign-schemas.js';
import { DEFAULT_TOLERANCE_SECONDS, REFCAMPAIGN_WEBHOOK_EVENT_TYPES, epochSeconds, matchesAny, parseSignedHeader, signedMessage } from '../webhooks/signature.js';

/** `new RefCampaignServer(secretKey, options)`'s options, as `@refcampaign/sdk` 3.x takes them. */
export interface RefCampaignServerOptions {
  /** Default `https://app.refcampaign.com` (staging: `https://app.test.refcampaign.com`). */
  apiUrl?: string;
  /** Milliseconds per attempt. Default 10 000. */
  timeoutMs?: number;
  /**
   * `attempts` in all, first included (default 3). Retries happen only where they cannot refund
   * twice. `baseDelayMs` is accepted and not used: clawback waits what RefCampaign asks
   * (`Retry-After`), else its own backoff (0.5 s, 1 s, … with jitter).
   */
  retry?: { attempts?: number; baseDelayMs?: number };
  /** Called with every failure `refundConversion` resolves as `{ success: false }`. One that throws is ignored. */
  onError?: (error: Error, context: { orderId: string; attempts: number; operation: 'refund' }) => void;
  /** Logs each request and response, and each retry, to the console (credentials redacted). */
  debug?: boolean;
}

/** `refundConversion()`'s argument: the order (`orderId`, RefCampaign's `externalId`), and for a partial refund `amount` in integer minor units. */
export interface RefundConversionParams {
  /** Your order id: the `externalId` you reported the conversion with. */
  orderId: string;
  /** Integer minor units of the conversion's currency; omit for a full refund. */
  amount?: number;
  /** 1 to 500 characters, recorded in RefCampaign's clawback ledger. */
  reason?: string;
}

/** The envelope's `data`, or a failure described in words (never with the key). */
export type RefundConversionResult =
  | { success: true; conversionId?: string; alreadyRefunded?: boolean; message?: string; [key: string]: unknown }
  | { success: false; error: string };

const optionsSchema = strictObject(
  {
    apiUrl: optional(nonEmptyString('a URL such as "https://app.refcampaign.com"')),
    timeoutMs: optional(timeoutSchema),
    retry: optional(
      strictObject(
        { attempts: optional(integer(expected('a whole number'))), baseDelayMs: optional(integer(expected('a whole number of milliseconds'))) },
        { error: expected('{ attempts?, baseDelayMs? }') },
      ),
    ),
    onError: optional(functionSchema<RefCampaignServerOptions['onError']>()),
    debug: optional(z.boolean({ error: expected('true or false') })),
  },
  { error: expected('an options object like { apiUrl?, timeoutMs?, retry?, onError?, debug? }') },
);

const paramsSchema = strictObject(
  { orderId: refCampaignExternalIdSchema, amount: optional(refCampaignAmountSchema), reason: optional(refCampaignReasonSchema) },
  { error: expected('{ orderId, amount?, reason? }') },
);

/** A drop-in for `@refcampaign/sdk` 3.x's `RefCampaignServer`, for its refund call and webhook check: `refundConversion()` resolves to `{ success: false, error }` rather than throwing on an HTTP or network failure (see docs/migrating.md). */
export class RefCampaignServer {
  readonly #provider: RefCampaignProvider;
  readonly #onError: RefCampaignServerOptions['onError'];

  /** `secretKey` undefined (an unset `process.env` value): `REFCAMPAIGN_API_KEY` is read instead, as `createRefCampaign()` does. */
  constructor(secretKey: string | undefined, options: RefCampaignServerOptions = {}) {
    // As the SDK does: a key that is not a RefCampaign secret key is refused at once.
    // https://docs.refcampaign.com/docs/authentication
    const key = compatKey(secretKey, {
      path: 'secretKey',
      envName: 'REFCAMPAIGN_API_KEY',
      pattern: /^rc_(live|test)_/,
      expected: 'a RefCampaign secret key, starting with rc_live_ or rc_test_',
      context: 'Invalid RefCampaignServer options',
      provider: 'refcampaign',
    });
    const settings = parseInput(optionsSchema, options ?? {}, 'Invalid RefCampaignServer options', 'refcampaign');
    const attempts = settings.retry?.attempts ?? 3;
    if (attempts < 1 || attempts > 11) {
      throw new ValidationError([{ path: 'retry.attempts', message: 'must be between 1 and 11 (the first attempt included)' }], { context: 'Invalid RefCampaignServer options', provider: 'refcampaign' });
    }
    this.#onError = settings.onError;
    this.#provider = createRefCampaign({
      apiKey: key,
      // The SDK's apiUrl is the origin; one given with /api/v1 is taken as that origin.
      baseURL: (settings.apiUrl ?? 'https://app.refcampaign.com').replace(/\/api\/v1\/?$/i, ''),
      timeout: settings.timeoutMs ?? 10_000,
      maxRetries: attempts - 1,
      ...(settings.debug ? { logger: console } : {}),
    });
  }

  /**
   * `POST /api/v1/conversions/refund` with `{ externalId: orderId, amount?, reason? }`. Resolves
   * to the envelope's `data`, or `{ success: false, error }` on an HTTP or network failure (then
   * `onError` is called). Input RefCampaign would refuse is refused before sending (`ValidationError`).
   */
  async refundConversion(params: RefundConversionParams): Promise<RefundConversionResult> {
    const { orderId, amount, reason } = parseInput(paramsSchema, params, 'Invalid refundConversion() params', 'refcampaign');
    try {
      const answer = await this.#provider.conversions.refund({
        externalId: orderId,
        ...(amount === undefined ? {} : { amount }),
        ...(reason === undefined ? {} : { reason }),
      });
      // RefCampaign documents no 200 body: what its envelope's data holds, when it sent one.
      return { ...answer?.data, success: true };
    } catch (error) {
      if (!ClawbackError.isInstance(error) || ValidationError.isInstance(error)) throw error;
      const onError = this.#onError;
      // An observer: one that throws (or rejects) is ignored, as clawback's hooks are.
      notify('onError', () => onError?.(error, { orderId, attempts: error.attempts ?? 1, operation: 'refund' }), undefined, undefined);
      return { success: false, error: error.message };
    }
  }
}

export default RefCampaignServer;

// ---- Webhooks, as @refcampaign/sdk exports them ----------------------------------------------

/** The header RefCampaign signs its webhooks in. */
export const WEBHOOK_SIGNATURE_HEADER = 'X-RefCampaign-Signature';

/** The events RefCampaign sends (docs.refcampaign.com/docs/api/integration/webhooks). */
export const WEBHOOK_EVENT_TYPES = REFCAMPAIGN_WEBHOOK_EVENT_TYPES;
/** A RefCampaign webhook event type (`conversion.refunded`, …). */
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** `verifyWebhookSignature()`'s argument: the raw body, the `X-RefCampaign-Signature` header, the secret, and optionally the tolerance and the time to check against. */
export interface VerifyWebhookSignatureParams {
  secret: string;
  /** The raw request body, exactly as received. */
  payload: string | Uint8Array;
  /** The `X-RefCampaign-Signature` header's value. */
  header: string | null | undefined;
  /** Default 300. */
  toleranceSeconds?: number;
  /** A Date, or epoch milliseconds (default: now). */
  now?: Date | number;
}

/**
 * True when `header` is RefCampaign's signature of `payload` under `secret`, made within
 * `toleranceSeconds` of `now`; false for anything else (a missing or malformed header, a bad
 * input, a mismatch, a stale timestamp), never throwing, as `@refcampaign/sdk`'s is.
 * Synchronous like the SDK's, so the HMAC comes from `@noble/hashes` (audited, synchronous, no
 * Node built-ins, so it runs on edge runtimes too), not Web Crypto, which is async only;
 * `verifyWebhook('refcampaign', …)` from `clawback/webhooks` says why a check failed and parses
 * the event.
 */
export function verifyWebhookSignature(params: VerifyWebhookSignatureParams): boolean {
  const { secret, payload, header, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now } = (params ?? {}) as Partial<VerifyWebhookSignatureParams>;
  if (typeof secret !== 'string' || secret === '' || typeof header !== 'string') return false;
  if (typeof payload !== 'string' && !(payload instanceof Uint8Array)) return false;
  if (!Number.isFinite(toleranceSeconds) || toleranceSeconds <= 0) return false;
  if (now !== undefined && !(now instanceof Date) && typeof now !== 'number') return false;
  const parsed = parseSignedHeader(header);
  if ('problem' in parsed) return false;
  const expectedSignature = hmac(sha256, new TextEncoder().encode(secret), signedMessage(parsed.timestamp, payload));
  return matchesAny(expectedSignature, parsed.signatures) && Math.abs(epochSeconds(now) - parsed.timestamp) <= toleranceSeconds;
}
