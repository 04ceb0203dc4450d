import type { ProviderName } from '../spec/refund-provider-v1.js';
import { encodeBody, type EmulatorOutcome } from './emulator.js';

/**
 * Each vendor's origin and the path of its refund endpoint (msw path syntax). Written from
 * the vendors' reference pages, not imported from the providers: a wrong path in the SDK must
 * not be able to hide behind a constant the emulator shares.
 */
export const VENDOR_ENDPOINTS: Record<ProviderName, { origin: string; path: string }> = {
  affixo: { origin: 'https://go.affixo.dev', path: '/v1/track/refund' },
  affonso: { origin: 'https://api.affonso.io', path: '/v1/conversions/:id/refund' },
  refcampaign: { origin: 'https://app.refcampaign.com', path: '/api/v1/conversions/refund' },
  firstpromoter: { origin: 'https://api.firstpromoter.com', path: '/api/v2/track/refund' },
};

/**
 * An emulator answer as a Fetch `Response` (a dropped connection becomes msw's network error; a
 * trickling body a stream that yields its pieces on time). Compression is the loopback server's
 * alone: fetch does not decode a Response msw hands back.
 */
export function toResponse(outcome: EmulatorOutcome): Response {
  // A dropped connection: a network error, as fetch reports one (msw's HttpResponse.error() is this).
  if ('reset' in outcome) return Response.error();
  const headers = new Headers(outcome.headers);
  const { bytes, contentType } = encodeBody(outcome.body);
  if (contentType && !headers.has('content-type')) headers.set('content-type', contentType);
  const trickle = outcome.trickle;
  if (!bytes || !trickle) return new Response(bytes as BodyInit | null, { status: outcome.status, headers });
  let offset = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stream = new ReadableStream<Uint8Array>({
    pull: (controller) =>
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          controller.enqueue(bytes.subarray(offset, (offset += trickle.bytes)));
          if (offset >= bytes.length) controller.close();
          resolve();
        }, trickle.every);
      }),
    cancel: () => clearTimeout(timer),
  });
  return new Response(stream, { status: outcome.status, headers });
}
