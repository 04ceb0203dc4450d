import type * as z from 'zod/mini';
import type { VendorErrorInfo, VendorResponse } from '../../core/transport-types.js';
import { createProviderTransport, type ProviderSettings } from '../../core/settings.js';
import { parseNativeCall } from '../../core/validation.js';
import type { CallOptions, RefundProviderV1 } from '../../spec/refund-provider-v1.js';
import { refundWithRefCampaign } from './refcampaign-refund.js';
import {
  refCampaignErrorSchema,
  refCampaignRefundBodySchema,
  refCampaignRefundResponseSchema,
  type RefCampaignRefundBody,
  type RefCampaignRefundResponse,
} from './refcampaign-schemas.js';

/** `createRefCampaign()`'s settings. */
export type RefCampaignSettings = ProviderSettings;

/** What `createRefCampaign()` returns: a provider for `refund()`, and RefCampaign's own refund call. */
export interface RefCampaignProvider extends RefundProviderV1<'refcampaign'> {
  readonly conversions: {
    /**
     * `POST /api/v1/conversions/refund` with RefCampaign's own body (`{ externalId, amount?, reason? }`); resolves to its documented
     * body. A partial refund (with `amount`) is never retried after an ambiguous failure.
     */
    refund(body: RefCampaignRefundBody, options?: CallOptions): Promise<RefCampaignRefundResponse>;
  };
}

export type RefCampaignSend = (
  body: z.output<typeof refCampaignRefundBodySchema>,
  options: CallOptions | undefined,
  idempotencyKey?: string,
) => Promise<{ data: RefCampaignRefundResponse; response: VendorResponse }>;

function readRefCampaignError(body: unknown): VendorErrorInfo {
  const parsed = refCampaignErrorSchema.safeParse(body);
  if (!parsed.success) return {};
  const { error, meta } = parsed.data;
  return {
    code: error.code,
    message: error.message,
    requestId: meta?.requestId,
    // LIMIT_EXCEEDED is the plan's quota, not a burst limit: waiting seconds will not help.
    // https://docs.refcampaign.com/docs/error-handling
    final: error.code === 'LIMIT_EXCEEDED',
  };
}

/** A RefCampaign provider for `refund()`, with RefCampaign's native call (`conversions.refund`). Reads `REFCAMPAIGN_API_KEY` on first use unless `apiKey` is given. */
export function createRefCampaign(settings: RefCampaignSettings = {}): RefCampaignProvider {
  const transport = createProviderTransport(
    {
      provider: 'refcampaign',
      vendor: 'RefCampaign',
      factory: 'createRefCampaign',
      defaultBaseURL: 'https://app.refcampaign.com',
      pathPrefixes: ['api/v1'],
      apiKeyEnv: 'REFCAMPAIGN_API_KEY',
      extraSettings: {},
      authenticate: (apiKey) => ({ authorization: `Bearer ${apiKey}` }),
      // RefCampaign documents 429 and Retry-After, but no limit to stay under.
      defaultRateLimit: () => [],
      readError: readRefCampaignError,
    },
    settings,
  );

  const send: RefCampaignSend = (body, options, idempotencyKey) => {
    const request = {
      path: 'api/v1/conversions/refund',
      body,
      // "A second call on an already-refunded conversion is a no-op": full refunds are safe to
      // repeat. A partial refund carries no key, so a repeat would claw back again [?].
      dedupes: body.amount === undefined,
      notIdempotentReason: 'RefCampaign partial refunds carry no idempotency key',
      idempotencyKey,
      options,
    };
    return transport.send(request, refCampaignRefundResponseSchema, (answer) =>
      answer?.success === false ? '"success": false' : answer?.data?.success === false ? '"data.success": false' : undefined,
    );
  };

  return {
    specificationVersion: 'v1',
    provider: 'refcampaign',
    conversions: {
      refund(body, options) {
        return transport.guard(async () => {
          const call = parseNativeCall('refcampaign.conversions.refund()', 'refcampaign', refCampaignRefundBodySchema, body, options);
          return (await send(call.body, call.options)).data;
        });
      },
    },
    ledger: settings.ledger,
    // With a ledger, the ledger is what keeps a partial refund to one send (RefCampaign has no key for it).
    // A full refund of a refunded conversion is a no-op; a partial refund has no key.
    doRefund: (call) => transport.refund(call, call.amount === undefined, (c) => refundWithRefCampaign(c, send, settings.ledger !== undefined)),
  };
}
