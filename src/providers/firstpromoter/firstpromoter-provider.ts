import type * as z from 'zod/mini';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { VendorErrorInfo, VendorResponse } from '../../core/transport-types.js';
import { requireSetting } from '../../core/credentials.js';
import { createProviderTransport, type ProviderSettings } from '../../core/settings.js';
import { nonEmptyString, optional, parseNativeCall } from '../../core/validation.js';
import type { CallOptions, RefundProviderV1 } from '../../spec/refund-provider-v1.js';
import { refundWithFirstPromoter } from './firstpromoter-refund.js';
import {
  firstPromoterErrorSchema,
  firstPromoterRefundBodySchema,
  firstPromoterRefundResponseSchema,
  type FirstPromoterRefundBody,
  type FirstPromoterRefundResponse,
} from './firstpromoter-schemas.js';

export interface FirstPromoterSettings extends ProviderSettings {
  /** Sent as the `Account-ID` header. Defaults to `FIRSTPROMOTER_ACCOUNT_ID`. */
  accountId?: string;
}

/** The documented body, with the lead identified by exactly one of `email` | `uid`. */
export type FirstPromoterRefundRequest = Omit<FirstPromoterRefundBody, 'email' | 'uid'> &
  ({ email: string; uid?: never } | { uid: string; email?: never });

/** What `createFirstPromoter()` returns: a provider for `refund()`, and FirstPromoter's own refund call. */
export interface FirstPromoterProvider extends RefundProviderV1<'firstpromoter'> {
  readonly track: {
    /**
     * `POST /api/v2/track/refund` with FirstPromoter's own body; resolves to its documented 200
     * body. A 409 (this `event_id` already exists) throws `ConflictError`; a 204 (no lead or
     * commission matched, nothing recorded) throws `NotFoundError`.
     */
    refund(body: FirstPromoterRefundRequest, options?: CallOptions): Promise<FirstPromoterRefundResponse>;
  };
}

export type FirstPromoterSend = (
  body: z.output<typeof firstPromoterRefundBodySchema>,
  options: CallOptions | undefined,
) => Promise<{ data: FirstPromoterRefundResponse; response: VendorResponse }>;

function readFirstPromoterError(body: unknown): VendorErrorInfo {
  const parsed = firstPromoterErrorSchema.safeParse(body);
  return parsed.success ? { code: parsed.data.code, message: parsed.data.message } : {};
}

/**
 * FirstPromoter's only documented 409 is "The 'refund' event with the id '…' already exists."
 * https://docs.firstpromoter.com/api-reference-v2/api-admin/tracking-api/refund
 */
export function isReplayOf(error: ConflictError, eventId: string): boolean {
  const message = (error.body as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message.includes(`'${eventId}'`) && /already exists/i.test(message);
}

/**
 * A 409 that is not the documented replay of this event_id: FirstPromoter gives it no meaning, so
 * whether it recorded the refund is unknown. Flagged ambiguous (not retryable), because a caller
 * who then re-sends the refund under a new key could refund twice.
 */
function unexplainedConflict(error: ConflictError, eventId: string): ConflictError {
  return new ConflictError(
    `${error.message.replace(/\.$/, '')}. FirstPromoter documents a 409 only for a refund whose event_id already exists, and this answer does not say that of this call's event_id ('${eventId}'), so the refund may or may not have been recorded. Check the refund at FirstPromoter; do not send it again under a new key, which could refund twice.`,
    { ...error, cause: error.cause, ambiguous: true, retryable: false },
  );
}

/** A FirstPromoter provider for `refund()`, with FirstPromoter's native call (`track.refund`). Reads `FIRSTPROMOTER_API_KEY` and `FIRSTPROMOTER_ACCOUNT_ID` on first use unless given. */
export function createFirstPromoter(settings: FirstPromoterSettings = {}): FirstPromoterProvider {
  const transport = createProviderTransport(
    {
      provider: 'firstpromoter',
      vendor: 'FirstPromoter',
      factory: 'createFirstPromoter',
      defaultBaseURL: 'https://api.firstpromoter.com',
      // The OpenAPI document's server is …/api/v2/track, so both are likely copies.
      pathPrefixes: ['api/v2/track', 'api/v2'],
      apiKeyEnv: 'FIRSTPROMOTER_API_KEY',
      extraSettings: { accountId: optional(nonEmptyString()) },
      authenticate: (apiKey, { accountId }) => ({
        authorization: `Bearer ${apiKey}`,
        'account-id': requireSetting(accountId as string | undefined, 'accountId', 'FIRSTPROMOTER_ACCOUNT_ID', 'createFirstPromoter', 'firstpromoter'),
      }),
      // "400 requests/minute per account": a shared budget is the account's, whatever the key.
      rateLimitUnit: (headers) => headers['account-id'] ?? '',
      // "400 requests/minute per account". A provider instance serves one account.
      // https://docs.firstpromoter.com/api-reference-v2/api-admin/introduction
      defaultRateLimit: () => [{ limit: 400, interval: 60_000 }],
      readError: readFirstPromoterError,
    },
    settings,
  );

  const send: FirstPromoterSend = async (body, options) => {
    const request = {
      path: 'api/v2/track/refund',
      body,
      // event_id is FirstPromoter's duplicate guard: a repeat answers 409 instead of refunding again.
      dedupes: true,
      idempotencyKey: body.event_id,
      options,
    };
    const response = await transport.post(request).catch((error: unknown) => {
      throw ConflictError.isInstance(error) && !isReplayOf(error, body.event_id) ? unexplainedConflict(error, body.event_id) : error;
    });
    if (response.status === 204) {
      // Undocumented in the reference, but it is what FirstPromoter answers when no lead or
      // commission matches: nothing was recorded, which a caller must not mistake for success.
      throw new NotFoundError(
        'FirstPromoter answered 204 No Content: no lead or commission matched this refund, so nothing was recorded. Check the email/uid and sale_event_id.',
        { provider: 'firstpromoter', status: 204, requestId: response.requestId, idempotencyKey: body.event_id },
      );
    }
    return { data: transport.parse(firstPromoterRefundResponseSchema, response, request), response };
  };

  return {
    specificationVersion: 'v1',
    provider: 'firstpromoter',
    track: {
      refund(body, options) {
        return transport.guard(async () => {
          const call = parseNativeCall('firstpromoter.track.refund()', 'firstpromoter', firstPromoterRefundBodySchema, body, options);
          return (await send(call.body, call.options)).data;
        });
      },
    },
    ledger: settings.ledger,
    // event_id is FirstPromoter's duplicate guard.
    doRefund: (call) => transport.refund(call, true, (c) => refundWithFirstPromoter(c, send)),
  };
}
