import type * as z from 'zod/mini';
import { ValidationError } from '../../core/errors.js';
import type { VendorErrorInfo, VendorResponse } from '../../core/transport-types.js';
import { createProviderTransport, type ProviderSettings } from '../../core/settings.js';
import { parseNativeCall } from '../../core/validation.js';
import type { CallOptions, RefundProviderV1 } from '../../spec/refund-provider-v1.js';
import { refundWithAffixo } from './affixo-refund.js';
import {
  affixoErrorSchema,
  affixoRefundBodySchema,
  affixoRefundResponseSchema,
  type AffixoRefundBody,
  type AffixoRefundResponse,
} from './affixo-schemas.js';

/** `createAffixo()`'s settings. */
export type AffixoSettings = ProviderSettings;

/** What `createAffixo()` returns: a provider for `refund()`, and Affixo's own refund call. */
export interface AffixoProvider extends RefundProviderV1<'affixo'> {
  readonly track: {
    /** `POST /v1/track/refund` with Affixo's own body; resolves to its documented 200 body. */
    refund(body: AffixoRefundBody, options?: CallOptions): Promise<AffixoRefundResponse>;
  };
}

/** Sends a validated body; shared by the native call and `refund()`. */
export type AffixoSend = (
  body: z.output<typeof affixoRefundBodySchema>,
  options: CallOptions | undefined,
  idempotencyKey?: string,
) => Promise<{ data: AffixoRefundResponse; response: VendorResponse }>;

function readAffixoError(body: unknown): VendorErrorInfo {
  const parsed = affixoErrorSchema.safeParse(body);
  if (!parsed.success) return {};
  const { error, detail, need } = parsed.data;
  return { code: error, message: detail ?? (need ? `the key lacks the "${need}" scope` : undefined), need };
}

/** An Affixo provider for `refund()`, with Affixo's native call (`track.refund`). Reads `AFFIXO_API_KEY` on first use unless `apiKey` is given. */
export function createAffixo(settings: AffixoSettings = {}): AffixoProvider {
  const transport = createProviderTransport(
    {
      provider: 'affixo',
      vendor: 'Affixo',
      factory: 'createAffixo',
      defaultBaseURL: 'https://go.affixo.dev',
      pathPrefixes: ['v1'],
      apiKeyEnv: 'AFFIXO_API_KEY',
      extraSettings: {},
      authenticate: (apiKey) => {
        // Affiliate keys are read-only and valid only on /v1/affiliate/*: a refund with one can
        // never succeed, so refuse before sending it. https://docs.affixo.dev/authentication.md
        if (apiKey.startsWith('refa_')) {
          throw new ValidationError(
            [
              {
                path: 'apiKey',
                message:
                  'is an Affixo affiliate key (refa_…), which is read-only: refunds need a workspace key (sa_live_…) with the "track" or "*" scope',
              },
            ],
            { context: 'createAffixo() settings', provider: 'affixo' },
          );
        }
        return { authorization: `Bearer ${apiKey}` };
      },
      // "600 req/min per key (enforced at the edge)". https://docs.affixo.dev/authentication.md
      defaultRateLimit: () => [{ limit: 600, interval: 60_000 }],
      readError: readAffixoError,
    },
    settings,
  );

  const send: AffixoSend = (body, options, idempotencyKey) => {
    const request = {
      path: 'v1/track/refund',
      body,
      // "Idempotent on external_id": repeating the call cannot reverse the conversion twice.
      dedupes: true,
      idempotencyKey,
      options,
    };
    return transport.send(request, affixoRefundResponseSchema, (answer) => (answer.ok === false ? '"ok": false' : undefined));
  };

  return {
    specificationVersion: 'v1',
    provider: 'affixo',
    track: {
      refund(body, options) {
        return transport.guard(async () => {
          const call = parseNativeCall('affixo.track.refund()', 'affixo', affixoRefundBodySchema, body, options);
          return (await send(call.body, call.options)).data;
        });
      },
    },
    ledger: settings.ledger,
    // "Idempotent on external_id": a repeat cannot reverse the conversion twice.
    doRefund: (call) => transport.refund(call, true, (c) => refundWithAffixo(c, send)),
  };
}
