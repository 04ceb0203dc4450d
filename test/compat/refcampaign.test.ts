// clawback/compat/refcampaign against a loopback RefCampaign that checks the wire: code written
// for @refcampaign/sdk 3.x (as VENDOR-NOTES.md describes it) runs unchanged, never throws on an
// HTTP or network failure, and stays safe where the SDK is not.
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import RefCampaignServerDefault, { RefCampaignServer } from 'clawback/compat/refcampaign';
import { ClawbackError, ValidationError } from 'clawback';
import { closedPortURL, startLoopbackServer, type LoopbackServer } from '../support/hostile-server.js';

const KEY = 'rc_live_compat_refcampaign_0001';
const data = { success: true, conversionId: 'conv_1', alreadyRefunded: false, message: 'Refund recorded' };
const ok: { status: number; body: unknown; headers?: Record<string, string> } = { status: 200, body: { success: true, data, meta: { timestamp: '2026-06-22T16:10:00Z', requestId: 'req_rc_1' } } };

const servers: LoopbackServer[] = [];
afterEach(async () => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
async function refcampaign(...answers: Answer[]): Promise<LoopbackServer> {
  const server = await startLoopbackServer((_, response) => {
    const answer = answers[Math.min(server.received.length, answers.length) - 1] ?? ok;
    response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  servers.push(server);
  return server;
}
const failure = (code: string, message: string) => ({ success: false, error: { code, message, details: null }, meta: { timestamp: '2026-06-22T16:10:00Z', requestId: 'req_x' } });

describe('new RefCampaignServer(secretKey, options): the SDK surface', () => {
  it('is the default export too', () => {
    expect(RefCampaignServerDefault).toBe(RefCampaignServer);
  });

  it.each(['sk_live_x', 'rc_other_x', '', undefined])('throws on a key that is not rc_live_ or rc_test_ (%j), without echoing it', (key) => {
    let error: unknown;
    try {
      new RefCampaignServer(key as string);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain('must be a RefCampaign secret key, starting with rc_live_ or rc_test_');
    if (key) expect((error as Error).message).not.toContain(key);
  });

  it('refundConversion sends { externalId, amount, reason } and resolves to the envelope\'s data', async () => {
    const server = await refcampaign(ok);
    const client = new RefCampaignServer(KEY, { apiUrl: server.url });
    expect(await client.refundConversion({ orderId: 'order_1', amount: 4950, reason: 'chargeback' })).toEqual(data);
    expect(server.received[0]).toMatchObject({ method: 'POST', path: '/api/v1/conversions/refund', body: '{"externalId":"order_1","amount":4950,"reason":"chargeback"}' });
    expect(server.received[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('takes an apiUrl given with /api/v1 as its origin', async () => {
    const server = await refcampaign(ok);
    await new RefCampaignServer(KEY, { apiUrl: `${server.url}/api/v1` }).refundConversion({ orderId: 'order_1' });
    expect(server.received[0]?.path).toBe('/api/v1/conversions/refund');
  });

  it('refuses input RefCampaign would refuse, before sending', async () => {
    const server = await refcampaign(ok);
    const client = new RefCampaignServer(KEY, { apiUrl: server.url });
    for (const params of [{ orderId: '' }, { orderId: 'o', amount: 49.5 }, { orderId: 'o', reason: 'r'.repeat(501) }, { orderID: 'o' }]) {
      await expect(client.refundConversion(params as never)).rejects.toThrow(ValidationError);
    }
    expect(server.received).toHaveLength(0);
  });
});

describe('never throws on an HTTP or network failure', () => {
  it.each([
    [401, failure('UNAUTHORIZED', 'Missing or invalid API key')],
    [404, failure('NOT_FOUND', 'No conversion with externalId order_1')],
    [409, failure('CONFLICT', 'Conversion not refundable (status: PENDING)')],
    [500, failure('SERVER_ERROR', 'boom')],
  ])('%i: resolves { success: false, error } and calls onError(error, { orderId, attempts, operation })', async (status, body) => {
    const server = await refcampaign({ status, body, headers: { 'retry-after': '0' } });
    const onError = vi.fn();
    const result = await new RefCampaignServer(KEY, { apiUrl: server.url, onError }).refundConversion({ orderId: 'order_1' });
    expect(result).toEqual({ success: false, error: expect.stringContaining(`RefCampaign answered ${status}`) });
    expect(onError).toHaveBeenCalledTimes(1);
    const [error, context] = onError.mock.calls[0] as [Error, unknown];
    expect(ClawbackError.isInstance(error)).toBe(true);
    expect(context).toEqual({ orderId: 'order_1', attempts: server.received.length, operation: 'refund' });
  });

  it('a refused connection: resolves { success: false }, after the attempts allowed', async () => {
    const onError = vi.fn();
    const result = await new RefCampaignServer(KEY, { apiUrl: await closedPortURL(), retry: { attempts: 2 }, onError }).refundConversion({ orderId: 'order_1' });
    expect(result).toMatchObject({ success: false, error: expect.stringMatching(/Could not reach RefCampaign \(the request was not sent\)/) });
    expect(onError.mock.calls[0]?.[1]).toEqual({ orderId: 'order_1', attempts: 2, operation: 'refund' });
  });

  it('an onError that throws is ignored', async () => {
    const server = await refcampaign({ status: 500, body: failure('SERVER_ERROR', 'boom'), headers: { 'retry-after': '0' } });
    const onError = () => {
      throw new Error('bug in the caller');
    };
    await expect(new RefCampaignServer(KEY, { apiUrl: server.url, onError }).refundConversion({ orderId: 'o' })).resolves.toMatchObject({ success: false });
  });

  it('no error string shows the key, even when RefCampaign echoes it', async () => {
    const server = await refcampaign({ status: 401, body: failure('UNAUTHORIZED', `bad key ${KEY}`) });
    const onError = vi.fn();
    const result = await new RefCampaignServer(KEY, { apiUrl: server.url, onError }).refundConversion({ orderId: 'o' });
    expect(JSON.stringify(result)).not.toContain(KEY);
    expect(inspect(onError.mock.calls, { depth: Infinity, showHidden: true })).not.toContain(KEY);
  });
});

describe('where @refcampaign/sdk is unsafe, clawback stays safe', () => {
  it('a partial refund is not repeated after a 5xx (RefCampaign cannot deduplicate it); a full one is', async () => {
    const partialServer = await refcampaign({ status: 503, body: failure('SERVICE_UNAVAILABLE', 'x'), headers: { 'retry-after': '0' } }, ok);
    const partial = await new RefCampaignServer(KEY, { apiUrl: partialServer.url }).refundConversion({ orderId: 'o', amount: 100 });
    expect(partialServer.received).toHaveLength(1);
    expect(partial).toMatchObject({ success: false, error: expect.stringContaining('RefCampaign partial refunds carry no idempotency key') });

    const fullServer = await refcampaign({ status: 503, body: failure('SERVICE_UNAVAILABLE', 'x'), headers: { 'retry-after': '0' } }, ok);
    const full = await new RefCampaignServer(KEY, { apiUrl: fullServer.url }).refundConversion({ orderId: 'o' });
    expect(fullServer.received).toHaveLength(2);
    expect(full).toEqual(data);
  });

  it('retry.attempts bounds the attempts in all', async () => {
    const server = await refcampaign({ status: 503, body: failure('SERVICE_UNAVAILABLE', 'x'), headers: { 'retry-after': '0' } });
    await new RefCampaignServer(KEY, { apiUrl: server.url, retry: { attempts: 4, baseDelayMs: 1 } }).refundConversion({ orderId: 'o' });
    expect(server.received).toHaveLength(4);
  });
});

describe("a global fetch that returns a Response-like object, as the SDK's own tests mock it", () => {
  it('resolves from { ok, status, headers, json() }', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => ({ ok: true, status: 200, headers: new Headers({ 'content-type': 'application/json' }), json: async () => ok.body })));
    expect(await new RefCampaignServer(KEY).refundConversion({ orderId: 'order_1' })).toEqual(data);
    expect(fetch).toHaveBeenCalledTimes(1);
  });
});

describe('debug', () => {
  it('logs each request and response to the console, the key redacted', async () => {
    const server = await refcampaign(ok);
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => undefined);
    await new RefCampaignServer(KEY, { apiUrl: server.url, debug: true }).refundConversion({ orderId: 'o' });
    expect(debug.mock.calls.map((call) => call[0])).toEqual([expect.stringMatching(/^clawback: POST .*\/api\/v1\/conversions\/refund \(attempt 1\)$/), expect.stringMatching(/^clawback: 200 from POST/)]);
    expect(inspect(debug.mock.calls, { depth: Infinity })).not.toContain(KEY);
  });
});
