import type * as z from 'zod/mini';
import type { VendorErrorInfo, VendorResponse } from '../../core/transport-types.js';
import { hmacSha256, toHex } from '../../core/hmac.js';
import { readCredential } from '../../core/credentials.js';
import { createProviderTransport, type ProviderSettings } from '../../core/settings.js';
import { nonEmptyString, oneOf, optional, parseInput, parseNativeCall } from '../../core/validation.js';
import type { CallOptions, RefundProviderV1 } from '../../spec/refund-provider-v1.js';
import { refundWithAffonso } from './affonso-refund.js';
import {
  affonsoConversionIdSchema,
  affonsoErrorSchema,
  affonsoRefundBodySchema,
  affonsoRefundResponseSchema,
  type AffonsoConversion,
  type AffonsoRefundBody,
  type AffonsoRefundResponse,
} from './affonso-schemas.js';

export interface AffonsoSettings extends ProviderSettings {
  /**
   * Your Affonso plan's requests per minute, for the client-side rate limit: 300 (default, the
   * smallest plan), 600, 1200 or 3000, with their bursts of 10, 20, 40 or 100 per second.
   * https://docs.affonso.io/api/rate-limits
   */
  plan?: AffonsoPlan;
  /**
   * Your Affonso signing secret (default: `AFFONSO_SIGNING_SECRET`, when set). Each refund
   * attempt then carries `X-Affonso-Timestamp` (unix seconds) and `X-Affonso-Signature`, the hex
   * HMAC-SHA256 of `"{timestamp}.{body}"` over the exact bytes sent, as `@affonso/sdk` 1.x signs
   * server-side calls; Affonso's CLI says refunds require it. Redacted like the key.
   */
  signingSecret?: string;
}

/** `X-Affonso-Timestamp` and `X-Affonso-Signature` for one attempt: a fresh timestamp each time. */
export function affonsoSigner(secret: string): (body: string) => Promise<Record<string, string>> {
  const mac = hmacSha256(secret);
  return async (body) => {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return { 'x-affonso-timestamp': timestamp, 'x-affonso-signature': toHex(await mac(`${timestamp}.${body}`)) };
  };
}

/** Affonso's plans, as requests per minute: the client-side rate limit follows the one you give `createAffonso({ plan })`. */
export type AffonsoPlan = 300 | 600 | 1200 | 3000;

/** Requests per second each plan allows in a burst. */
const planBursts: Record<AffonsoPlan, number> = { 300: 10, 600: 20, 1200: 40, 3000: 100 };

/** What `createAffonso()` returns: a provider for `refund()`, and Affonso's own refund call. */
export interface AffonsoProvider extends RefundProviderV1<'affonso'> {
  readonly conversions: {
    /**
     * `POST /v1/conversions/{id}/refund` with Affonso's own body; resolves to the updated
     * conversion (the envelope's `data`), like `@affonso/sdk`'s `conversions.refund()`.
     * Retried after a timeout or 5xx only when the body carries `external_event_id`.
     */
    refund(id: string, body?: AffonsoRefundBody, options?: CallOptions): Promise<AffonsoConversion>;
  };
}

export type AffonsoSend = (
  conversionId: string,
  body: z.output<typeof affonsoRefundBodySchema>,
  options: CallOptions | undefined,
) => Promise<{ data: AffonsoRefundResponse; response: VendorResponse }>;

function readAffonsoError(body: unknown): VendorErrorInfo {
  const parsed = affonsoErrorSchema.safeParse(body);
  if (!parsed.success) return {};
  const { error, retryAfter } = parsed.data;
  const seconds = retryAfter ?? error.retryAfter;
  return {
    code: error.code,
    message: error.field && error.message ? `${error.message} (field: ${error.field})` : error.message,
    retryAfter: seconds === undefined ? undefined : Math.round(seconds * 1000),
  };
}

/** An Affonso provider for `refund()`, with Affonso's native call (`conversions.refund`). Reads `AFFONSO_API_KEY` (and `AFFONSO_SIGNING_SECRET`) on first use unless given. */
export function createAffonso(settings: AffonsoSettings = {}): AffonsoProvider {
  const transport = createProviderTransport(
    {
      provider: 'affonso',
      vendor: 'Affonso',
      factory: 'createAffonso',
      defaultBaseURL: 'https://api.affonso.io',
      // @affonso/sdk's baseUrl is https://api.affonso.io/v1: copied here it would double the /v1.
      pathPrefixes: ['v1'],
      apiKeyEnv: 'AFFONSO_API_KEY',
      extraSettings: {
        plan: optional(oneOf([300, 600, 1200, 3000], "must be your plan's requests per minute: 300, 600, 1200 or 3000")),
        signingSecret: optional(nonEmptyString()),
      },
      signer: ({ signingSecret }) => {
        const secret = readCredential(signingSecret as string | undefined, 'signingSecret', 'AFFONSO_SIGNING_SECRET', 'createAffonso', 'affonso');
        return secret === undefined ? undefined : { secret, sign: affonsoSigner(secret) };
      },
      authenticate: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      defaultRateLimit: ({ plan }) => {
        const perMinute = (plan as AffonsoPlan | undefined) ?? 300;
        return [
          { limit: perMinute, interval: 60_000 },
          { limit: planBursts[perMinute], interval: 1_000 },
        ];
      },
      readError: readAffonsoError,
    },
    settings,
  );

  const send: AffonsoSend = (conversionId, body, options) => {
    const request = {
      path: `v1/conversions/${encodeURIComponent(conversionId)}/refund`,
      body,
      // Affonso deduplicates on external_event_id; without one, a repeat could refund twice
      // (@affonso/sdk retries anyway — we do not).
      dedupes: body.external_event_id !== undefined,
      notIdempotentReason: 'no external_event_id was sent, so Affonso cannot recognise a repeat',
      idempotencyKey: body.external_event_id,
      options,
    };
    return transport.send(request, affonsoRefundResponseSchema, (answer) => (answer.success === false ? '"success": false' : undefined));
  };

  return {
    specificationVersion: 'v1',
    provider: 'affonso',
    conversions: {
      refund(id, body, options) {
        return transport.guard(async () => {
          const validId = parseInput(affonsoConversionIdSchema, id, 'Invalid affonso.conversions.refund() id', 'affonso');
          const call = parseNativeCall('affonso.conversions.refund()', 'affonso', affonsoRefundBodySchema, body ?? {}, options);
          return (await send(validId, call.body, call.options)).data.data;
        });
      },
    },
    ledger: settings.ledger,
    // refund() always sends external_event_id, on which Affonso deduplicates.
    doRefund: (call) => transport.refund(call, true, (c) => refundWithAffonso(c, send)),
  };
}
