// A minimal local stand-in for the four vendors' refund endpoints, so the examples run with no
// account anywhere. It answers each documented path with the vendor's documented success body
// and prints what it received. (Not a faithful emulator: no ledger, no errors.)
import { createServer, type IncomingMessage } from 'node:http';

const successBodies: Array<[path: RegExp, body: (request: unknown) => unknown]> = [
  [/\/v1\/track\/refund$/, () => ({ ok: true, conversion_id: 'cv_8f2a' })],
  [
    /\/v1\/conversions\/[^/]+\/refund$/,
    (request) => {
      const amount = (request as { amount?: number }).amount;
      return {
        success: true,
        data: {
          id: 'com_abc123',
          status: amount === undefined ? 'refunded' : 'ready_for_payment',
          sales_status: amount === undefined ? 'refunded' : 'partial_refunded',
          sale_amount: 120,
          sale_amount_currency: 'USD',
          commission_amount: amount === undefined ? 0 : 21.15,
          commission_currency: 'USD',
        },
      };
    },
  ],
  [
    /\/api\/v1\/conversions\/refund$/,
    () => ({ success: true, data: { success: true, conversionId: 'conv_91', alreadyRefunded: false }, meta: { requestId: 'req_rc_1' } }),
  ],
  [
    /\/api\/v2\/track\/refund$/,
    (request) => {
      const cents = Number((request as { amount?: string }).amount);
      return { id: 33847726, type: 'refund', amount_cents: -cents, reward: { amount: -Math.round(cents * 0.2), unit: 'cash', status: 'approved' } };
    },
  ],
];

async function readJson(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

/** Starts the stand-in on a free loopback port; `baseURL` goes into the provider's settings. */
export async function startLocalVendor(): Promise<{ baseURL: string; close: () => Promise<void> }> {
  const server = createServer(async (request, response) => {
    const body = await readJson(request);
    console.log(`  → vendor received ${request.method} ${request.url} ${JSON.stringify(body)}`);
    const match = successBodies.find(([path]) => path.test(request.url ?? ''));
    response.writeHead(match ? 200 : 404, { 'content-type': 'application/json', 'x-request-id': 'req_local_1' });
    response.end(JSON.stringify(match ? match[1](body) : { message: 'unknown path' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    baseURL: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
