import * as z from 'zod/mini';
import { ValidationError, WebhookVerificationError, type WebhookVerificationCode } from '../core/errors.js';
import { hmacSha256 } from '../core/hmac.js';
import { describeSchemaIssue, expected, integer, isPlainObject, looseObject, nonEmptyString, optional, parseInput, strictObject } from '../core/validation.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';
import { DEFAULT_TOLERANCE_SECONDS, epochSeconds, hmacFromHex, matchesAny, parseSignedHeader, parseUnixSeconds, signedMessage, type SignedHeader } from './signature.js';

export { WebhookVerificationError, type WebhookVerificationCode } from '../core/errors.js';
export { DEFAULT_TOLERANCE_SECONDS, REFCAMPAIGN_WEBHOOK_EVENT_TYPES } from './signature.js';

/** The vendors whose webhook signatures are documented, so clawback can verify them. */
export type WebhookProviderName = 'refcampaign' | 'affonso';

/** A `Headers`, or a plain object as Node and Express give them (any case; repeated headers as arrays). */
export type WebhookHeaders = Headers | Readonly<Record<string, string | readonly string[] | undefined>>;

/** `verifyWebhook()`'s options: the raw `payload` (string or bytes), the request's `headers`, the signing `secret`, and the timestamp window. */
export interface VerifyWebhookOptions {
  /** The raw request body, exactly as received: a string or bytes (a Node `Buffer` is bytes). Never parsed JSON. */
  payload: string | Uint8Array;
  headers: WebhookHeaders;
  /** The endpoint's signing secret (`whsec_…`), from the vendor's dashboard. */
  secret: string;
  /** How far the signing time may be from `now`, either way (default 300 s, as both vendors document). */
  toleranceSeconds?: number;
  /** The time to check against: a Date, or epoch milliseconds (default: now). */
  now?: Date | number;
}

/**
 * RefCampaign's envelope (docs.refcampaign.com/docs/api/integration/webhooks): `event`, `data`,
 * `timestamp` (ISO 8601) and `idempotencyKey`, "stable per (event, resource)": the same
 * lifecycle event carries the same key across retries. Loose: new fields are kept.
 */
export const refCampaignWebhookSchema = looseObject({
  event: nonEmptyString(),
  data: z.record(z.string(), z.unknown(), { error: expected('an object') }),
  timestamp: optional(z.string({ error: expected('an ISO 8601 string') })),
  idempotencyKey: optional(nonEmptyString()),
});

/** Affonso's envelope (docs.affonso.io/webhooks): `id` (the event's), `type`, `createdAt`, `data`. */
export const affonsoWebhookSchema = looseObject({
  id: nonEmptyString(),
  type: nonEmptyString(),
  createdAt: optional(z.string({ error: expected('an ISO 8601 string') })),
  data: z.record(z.string(), z.unknown(), { error: expected('an object') }),
});


interface VerifiedEvent<P extends WebhookProviderName, Raw> {
  provider: P;
  /** `conversion.refunded`, `transaction.rejected`, … */
  type: string;
  /** The event-specific payload. */
  data: Record<string, unknown>;
  /** The whole body, parsed. */
  raw: Raw;
  /** When the vendor signed it. */
  signedAt: Date;
}

/** A verified RefCampaign webhook, with its `idempotencyKey` (names the event and the conversion, not the refund). */
export interface RefCampaignWebhookEvent extends VerifiedEvent<'refcampaign', z.output<typeof refCampaignWebhookSchema>> {
  /** RefCampaign sends no event id; deduplicate on `idempotencyKey`. */
  id?: undefined;
  /**
   * Stable per (event, resource), e.g. `conversion.refunded:conversion:conv_abc`: a retried
   * delivery carries the same one. Note that it names the conversion, not the refund: a second
   * partial refund of one conversion may carry the same key as the first.
   */
  idempotencyKey: string | undefined;
}

/** A verified Affonso webhook; its `id` is Affonso's event id: deduplicate on it. */
export interface AffonsoWebhookEvent extends VerifiedEvent<'affonso', z.output<typeof affonsoWebhookSchema>> {
  /** The event's id (`evt_…`): deduplicate on it. */
  id: string;
}

/** A verified webhook from either vendor that signs them. */
export type WebhookEvent = RefCampaignWebhookEvent | AffonsoWebhookEvent;

/** Which vendor sent the webhook: its name, or a provider of it (`createAffonso()`, …). */
export type ProviderArgument<P extends WebhookProviderName> = P | { readonly provider: P };

const isHeaders = (value: unknown): value is Headers =>
  typeof value === 'object' && value !== null && typeof (value as Headers).get === 'function' && typeof (value as Headers).forEach === 'function';

const optionsSchema = strictObject(
  {
    payload: z.custom<string | Uint8Array>((value) => typeof value === 'string' || value instanceof Uint8Array, {
      error: (issue) =>
        issue.input === undefined
          ? 'is required: the raw request body'
          : 'must be the raw request body (a string or bytes) exactly as received: a parsed or re-serialised body cannot be verified (Express: express.raw({ type: "application/json" }); fetch-style: await request.text())',
    }),
    headers: z.custom<WebhookHeaders>((value) => isHeaders(value) || isPlainObject(value), { error: expected('a Headers or an object of header names to values') }),
    secret: nonEmptyString('the signing secret (a non-empty string)'),
    toleranceSeconds: optional(
      integer(expected('a whole number of seconds')).check(z.refine((value) => value > 0, 'must be greater than zero')),
    ),
    now: optional(
      z.custom<Date | number>((value) => (value instanceof Date && !Number.isNaN(value.getTime())) || (typeof value === 'number' && Number.isFinite(value)), {
        error: expected('a valid Date or a number of epoch milliseconds'),
      }),
    ),
  },
  { error: expected('an options object { payload, headers, secret }') },
);

const NOT_OFFERED: Record<Exclude<ProviderName, WebhookProviderName>, string> = {
  firstpromoter:
    "is not offered for FirstPromoter: its webhooks v2 are HMAC-signed, but FirstPromoter does not document which string the HMAC covers, so clawback cannot verify them (docs.firstpromoter.com)",
  affixo: 'is not offered for Affixo: Affixo documents no webhook signatures (docs.affixo.dev)',
};

/** One header, by name in any case; repeated values joined with ",". */
function readHeader(headers: WebhookHeaders, name: string): string | undefined {
  if (isHeaders(headers)) return headers.get(name) ?? undefined;
  const lower = name.toLowerCase();
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== lower || value === undefined) continue;
    return typeof value === 'string' ? value : value.join(',');
  }
  return undefined;
}

/**
 * Verifies that a webhook comes from the vendor, and parses it: the signature header, the
 * HMAC-SHA256 of `"<timestamp>.<raw body>"` under `secret` (Web Crypto, compared in constant
 * time), the timestamp within `toleranceSeconds` of `now`, and the body against the vendor's
 * documented envelope. Rejects with `WebhookVerificationError` (`code` says which check failed;
 * answer 400), or `ValidationError` for options that cannot be a webhook check at all.
 *
 * - `refcampaign`: `X-RefCampaign-Signature: t=<unix>,v1=<hex>` (docs.refcampaign.com/docs/api/integration/webhooks).
 * - `affonso`: either form Affonso documents (see `affonsoSignature`).
 */
export async function verifyWebhook(provider: ProviderArgument<'refcampaign'>, options: VerifyWebhookOptions): Promise<RefCampaignWebhookEvent>;
export async function verifyWebhook(provider: ProviderArgument<'affonso'>, options: VerifyWebhookOptions): Promise<AffonsoWebhookEvent>;
export async function verifyWebhook(provider: ProviderArgument<WebhookProviderName>, options: VerifyWebhookOptions): Promise<WebhookEvent>;
export async function verifyWebhook(provider: ProviderArgument<WebhookProviderName>, options: VerifyWebhookOptions): Promise<WebhookEvent> {
  const name = typeof provider === 'string' ? provider : (provider as { provider?: unknown } | null)?.provider;
  if (name !== 'refcampaign' && name !== 'affonso') {
    const message =
      typeof name === 'string' && name in NOT_OFFERED
        ? NOT_OFFERED[name as keyof typeof NOT_OFFERED]
        : 'must be "refcampaign" or "affonso" (or a provider made by createRefCampaign() or createAffonso())';
    throw new ValidationError([{ path: 'provider', message }], { context: 'verifyWebhook()' });
  }
  const { payload, headers, secret, toleranceSeconds = DEFAULT_TOLERANCE_SECONDS, now } = parseInput(optionsSchema, options, 'Invalid verifyWebhook() options', name);
  const fail = (code: WebhookVerificationCode, message: string) => new WebhookVerificationError(code, `${vendorName[name]} webhook refused: ${message}`, name);

  const signed = name === 'refcampaign' ? refCampaignSignature(headers, fail) : affonsoSignature(headers, fail);
  const expectedSignature = await hmacSha256(secret)(signedMessage(signed.timestamp, payload));
  if (!matchesAny(expectedSignature, signed.signatures)) {
    throw fail(
      'signature_mismatch',
      'the signature does not match this body under this secret (a wrong or rotated secret, or a body that was changed on the way, e.g. parsed and re-serialised)',
    );
  }
  const drift = epochSeconds(now) - signed.timestamp;
  if (Math.abs(drift) > toleranceSeconds) {
    throw fail(
      'timestamp_out_of_tolerance',
      `it was signed at ${new Date(signed.timestamp * 1000).toISOString()}, ${Math.abs(drift)} s ${drift > 0 ? 'ago' : 'in the future'}, outside the ${toleranceSeconds} s window (a replayed or long-delayed delivery, or a clock that is off)`,
    );
  }
  const body = parseBody(payload, fail);
  const signedAt = new Date(signed.timestamp * 1000);
  if (name === 'refcampaign') {
    const event = envelope(refCampaignWebhookSchema, body, fail);
    return { provider: name, type: event.event, idempotencyKey: event.idempotencyKey, data: event.data, raw: event, signedAt };
  }
  const event = envelope(affonsoWebhookSchema, body, fail);
  return { provider: name, type: event.type, id: event.id, data: event.data, raw: event, signedAt };
}

const vendorName: Record<WebhookProviderName, string> = { refcampaign: 'RefCampaign', affonso: 'Affonso' };
type Fail = (code: WebhookVerificationCode, message: string) => WebhookVerificationError;

function refCampaignSignature(headers: WebhookHeaders, fail: Fail): SignedHeader {
  const header = readHeader(headers, 'X-RefCampaign-Signature');
  if (header === undefined) {
    throw fail('missing_signature', 'no X-RefCampaign-Signature header (not sent by RefCampaign, or a proxy dropped it)');
  }
  const parsed = parseSignedHeader(header);
  if ('problem' in parsed) throw fail('malformed_signature', `X-RefCampaign-Signature is not "t=<unix seconds>,v1=<hex>": ${parsed.problem}`);
  return parsed;
}

/**
 * Affonso documents two forms, and both are accepted, each only with a valid HMAC and a fresh
 * timestamp:
 * - docs.affonso.io/webhooks/setup: `X-Affonso-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 over
 *   `"<t>.<payload>"`, 5-minute window;
 * - affonso.io/help/integrations/webhooks/webhooks: `X-Affonso-Timestamp: <unix seconds>` and
 *   `X-Affonso-Signature: <hex>` (docs.affonso.io/webhooks shows it `sha256=`-prefixed), HMAC-SHA256
 *   over `"<timestamp>.<raw body>"`. The help centre gives no window; the same 300 s is applied,
 *   the defensive choice (a signature without a freshness check can be replayed forever).
 */
function affonsoSignature(headers: WebhookHeaders, fail: Fail): SignedHeader {
  const header = readHeader(headers, 'X-Affonso-Signature');
  if (header === undefined) throw fail('missing_signature', 'no X-Affonso-Signature header (not sent by Affonso, or a proxy dropped it)');
  if (/(^|,)\s*t=/.test(header)) {
    const parsed = parseSignedHeader(header);
    if ('problem' in parsed) throw fail('malformed_signature', `X-Affonso-Signature is not "t=<unix seconds>,v1=<hex>": ${parsed.problem}`);
    return parsed;
  }
  const timestamp = readHeader(headers, 'X-Affonso-Timestamp');
  if (timestamp === undefined) {
    throw fail('malformed_signature', 'X-Affonso-Signature has no t=<unix seconds>, and no X-Affonso-Timestamp header came with it');
  }
  const seconds = parseUnixSeconds(timestamp);
  if (seconds === undefined) throw fail('malformed_signature', 'X-Affonso-Timestamp is not a unix timestamp in seconds');
  const signature = hmacFromHex(header.trim().replace(/^sha256=/i, ''));
  if (!signature) throw fail('malformed_signature', 'X-Affonso-Signature is not 64 hex digits (an HMAC-SHA256), optionally "sha256="-prefixed');
  return { timestamp: seconds, signatures: [signature] };
}

function parseBody(payload: string | Uint8Array, fail: Fail): unknown {
  let text: string;
  try {
    text = typeof payload === 'string' ? payload : new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    throw fail('invalid_json', 'the body is not UTF-8 text');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw fail('invalid_json', 'the body is not JSON');
  }
}

function envelope<T>(schema: z.ZodMiniType<T>, body: unknown, fail: Fail): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.input === undefined ? 'is required' : describeSchemaIssue(issue)}`);
  throw fail('invalid_payload', `the signature is valid, but the body is not the documented event envelope (${problems.join('; ')})`);
}
