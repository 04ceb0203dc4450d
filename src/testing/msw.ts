/**
 * `clawback/testing/msw`: the emulator as msw request handlers, for tests that intercept the
 * vendors' real origins instead of pointing providers at `startEmulator()`'s loopback server.
 * Needs msw (2 or 3) installed; `clawback/testing` itself does not.
 */
import { http, type HttpHandler } from 'msw';
import type { ProviderName } from '../spec/refund-provider-v1.js';
import { createEmulator, type Emulator } from './emulator.js';
import { VENDOR_ENDPOINTS, toResponse } from './responses.js';

export { VENDOR_ENDPOINTS, toResponse };

/**
 * msw request handlers that answer the four vendors' refund endpoints from `emulator`
 * (a fresh one when omitted): `setupServer(...emulatorHandlers(emulator))`. By default they
 * intercept the vendors' real origins, so providers need no `baseURL`; pass `baseURLs` to
 * mount a vendor elsewhere.
 */
export function emulatorHandlers(
  emulator: Emulator = createEmulator(),
  options: { baseURLs?: Partial<Record<ProviderName, string>> } = {},
): HttpHandler[] {
  return (Object.entries(VENDOR_ENDPOINTS) as Array<[ProviderName, { origin: string; path: string }]>).map(
    ([provider, { origin, path }]) => {
      const base = (options.baseURLs?.[provider] ?? origin).replace(/\/+$/, '');
      return http.post(`${base}${path}`, async ({ request }) => toResponse(await emulator.handle(provider, request)));
    },
  );
}
