import type * as z from 'zod/mini';
import type { VendorErrorInfo, VendorResponse } from '../../core/http.js';
import { createProviderTransport, type ProviderSettings } from '../../core/settings.js';
import { parseInput, parseNativeCall } from '../../core/validation.js';
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

export type AffonsoSettings = ProviderSettings;

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

export function createAffonso(settings: AffonsoSettings = {}): AffonsoProvider {
  const transport = createProviderTransport(
    {
      provider: 'affonso',
      vendor: 'Affonso',
      factory: 'createAffonso',
      defaultBaseURL: 'https://api.affonso.io',
      apiKeyEnv: 'AFFONSO_API_KEY',
      extraSettings: {},
      authenticate: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      readError: readAffonsoError,
    },
    settings,
  );

  const send: AffonsoSend = async (conversionId, body, options) => {
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
    return transport.send(request, affonsoRefundResponseSchema);
  };

  return {
    specificationVersion: 'v1',
    provider: 'affonso',
    conversions: {
      async refund(id, body, options) {
        const validId = parseInput(affonsoConversionIdSchema, id, 'Invalid affonso.conversions.refund() id', 'affonso');
        const call = parseNativeCall('affonso.conversions.refund()', 'affonso', affonsoRefundBodySchema, body ?? {}, options);
        return (await send(validId, call.body, call.options)).data.data;
      },
    },
    doRefund: (call) => refundWithAffonso(call, send),
  };
}
