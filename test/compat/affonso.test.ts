// clawback/compat/affonso against a loopback Affonso that checks the wire: code written for
// @affonso/sdk 1.x (as VENDOR-NOTES.md and docs.affonso.io/api/sdk/typescript describe it) runs
// unchanged, and stays safe where the SDK is not.
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import AffonsoDefault, {
  Affonso,
  AffonsoError,
  AuthenticationError,
  ConnectionError,
  DuplicateError,
  InternalError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  ValidationError,
} from 'clawback/compat/affonso';
import { ClawbackError, RateLimitError as ClawbackRateLimitError, ServerError } from 'clawback';
import { closedPortURL, startLoopbackServer, type LoopbackServer, type Received } from '../support/hostile-server.js';

const KEY = 'sk_live_compat_affonso_0001';
const conversion = { id: 'com_1', status: 'refunded', sales_status: 'partial_refunded', sale_amount: 49.5, replayed: false };

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
type Answer = { status: number; body?: unknown; headers?: Record<string, string> };
/** A loopback Affonso answering with `answers` in turn (the last repeats). */
async function affonso(...answers: Array<Answer | ((request: Received) => Answer)>): Promise<LoopbackServer> {
  const server = await startLoopbackServer((request, response) => {
    const next = answers[Math.min(server.received.length, answers.length) - 1] ?? { status: 200, body: { success: true, data: conversion } };
    const answer = typeof next === 'function' ? next(request) : next;
    response.writeHead(answer.status, { 'content-type': 'application/json', 'x-request-id': 'req_1', ...answer.headers }).end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  });
  servers.push(server);
  return server;
}
const ok: Answer = { status: 200, body: { success: true, data: conversion } };
const client = (server: LoopbackServer, options: ConstructorParameters<typeof Affonso>[1] = {}) => new Affonso(KEY, { baseUrl: `${server.url}/v1`, ...options });

describe('new Affonso(apiKey, options): the SDK surface', () => {
  it('is the default export too', () => {
    expect(AffonsoDefault).toBe(Affonso);
  });

  it('refunds at {baseUrl}/conversions/{id}/refund with the body as given, resolving to the conversion', async () => {
    const server = await affonso(ok);
    const result = await client(server).conversions.refund('com_1', { amount: 49.5, currency: 'USD', reason: 'customer_cancellation', external_event_id: 'evt_1' });
    expect(result).toEqual(conversion);
    const [request] = server.received;
    expect(request).toMatchObject({ method: 'POST', path: '/v1/conversions/com_1/refund', body: '{"amount":49.5,"currency":"USD","reason":"customer_cancellation","external_event_id":"evt_1"}' });
    expect(request?.headers).toMatchObject({ authorization: `Bearer ${KEY}`, 'content-type': 'application/json' });
  });

  it('sends an empty body for a full refund when params are left out', async () => {
    const server = await affonso(ok);
    await client(server).conversions.refund('com_1');
    expect(server.received[0]?.body).toBe('{}');
  });

  it('signs with signingSecret: X-Affonso-Timestamp and the hex HMAC-SHA256 of "{timestamp}.{body}"', async () => {
    const server = await affonso(ok);
    await client(server, { signingSecret: 'whsec_compat_0001' }).conversions.refund('com_1', { amount: 10, external_event_id: 'e' });
    const [request] = server.received;
    const timestamp = String(request?.headers['x-affonso-timestamp']);
    expect(request?.headers['x-affonso-signature']).toBe(createHmac('sha256', 'whsec_compat_0001').update(`${timestamp}.${request?.body}`).digest('hex'));
  });

  it('defaults to https://api.affonso.io/v1, 30 s and 2 retries', async () => {
    const seen: string[] = [];
    const affonsoClient = new Affonso(KEY, {
      fetch: async (input) => {
        seen.push(input instanceof Request ? input.url : String(input));
        return new Response(JSON.stringify({ success: false, error: { code: 'INTERNAL' } }), { status: 503, headers: { 'retry-after': '0' } });
      },
    });
    const error = await affonsoClient.conversions.refund('com_1', { external_event_id: 'e' }).catch((e: unknown) => e);
    expect(seen).toEqual(Array.from({ length: 3 }, () => 'https://api.affonso.io/v1/conversions/com_1/refund'));
    expect(error).toBeInstanceOf(InternalError);
  });
});

describe('errors: the SDK classes and fields, and clawback fields too', () => {
  it.each([
    [400, { success: false, error: { code: 'VALIDATION_ERROR', message: 'amount is too large', field: 'amount', details: { max: 49.5 } } }, ValidationError],
    [401, { success: false, error: { code: 'INVALID_API_KEY', message: 'Invalid API key' } }, AuthenticationError],
    [403, { success: false, error: { code: 'INSUFFICIENT_PERMISSIONS', message: 'no' } }, PermissionError],
    [404, { success: false, error: { code: 'NOT_FOUND', message: 'Conversion com_1 not found' } }, NotFoundError],
    [409, { success: false, error: { code: 'DUPLICATE_ERROR', message: 'external_event_id used for another conversion' } }, DuplicateError],
    [429, { success: false, error: { code: 'RATE_LIMIT_EXCEEDED', message: 'slow down' }, retryAfter: 120 }, RateLimitError],
    [500, { success: false, error: { code: 'INTERNAL_ERROR', message: 'boom' } }, InternalError],
  ])('%i → %o', async (status, body, ErrorClass) => {
    const server = await affonso({ status, body, headers: { 'retry-after': '120', 'x-ratelimit-remaining': '0' } });
    const error = (await client(server, { maxRetries: 0 }).conversions.refund('com_1', { amount: 1 }).catch((e: unknown) => e)) as AffonsoError;
    expect(error).toBeInstanceOf(ErrorClass);
    expect(error).toBeInstanceOf(AffonsoError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ status, code: body.error.code });
    expect(error.headers).toBeInstanceOf(Headers);
    expect(error.headers.get('x-request-id')).toBe('req_1');
    expect(ClawbackError.isInstance(error)).toBe(true);
    expect(typeof error.retryable).toBe('boolean');
    expect(typeof error.ambiguous).toBe('boolean');
    if (status === 400) expect(error).toMatchObject({ field: 'amount', details: { max: 49.5 } });
    if (status === 429) expect(ClawbackRateLimitError.isInstance(error) && (error as RateLimitError).retryAfter).toBe(120_000);
    if (status === 500) expect(ServerError.isInstance(error)).toBe(true);
  });

  it('success: false under a 2xx throws, by its code', async () => {
    const server = await affonso({ status: 200, body: { success: false, error: { code: 'VALIDATION_ERROR', message: 'no', field: 'currency' } } });
    const error = await client(server).conversions.refund('com_1', { amount: 1, currency: 'XYZ' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: 200, code: 'VALIDATION_ERROR', field: 'currency', ambiguous: false });
  });

  it('network failures and timeouts are ConnectionError, ambiguous when the request went out', async () => {
    const refused = await new Affonso(KEY, { baseUrl: `${await closedPortURL()}/v1`, maxRetries: 0 }).conversions.refund('com_1').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConnectionError);
    expect(refused).toMatchObject({ ambiguous: false, retryable: true });
    const slow = await startLoopbackServer(() => undefined);
    servers.push(slow);
    const timedOut = await new Affonso(KEY, { baseUrl: `${slow.url}/v1`, timeout: 100, maxRetries: 0 }).conversions.refund('com_1', { external_event_id: 'e' }).catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(ConnectionError);
    expect(timedOut).toMatchObject({ ambiguous: true, retryable: true, idempotencyKey: 'e' });
  });

  it('input Affonso would refuse is refused before sending, as a ValidationError naming the field', async () => {
    const server = await affonso(ok);
    const error = await client(server).conversions.refund('com_1', { amount: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ status: undefined, code: 'VALIDATION_ERROR', field: 'amount' });
    expect(server.received).toHaveLength(0);
  });

  it.each([
    [{ baseUrl: 'https://api.affonso.io' }, /baseUrl: must end with \/v1, as @affonso\/sdk's does/],
    [{ timeout: 0 }, /timeout: must be between 1 and/],
    [{ maxRetry: 2 }, /maxRetry: is not a known option/],
  ])('refuses the options %j', (options, message) => {
    expect(() => new Affonso(KEY, options as never)).toThrow(ValidationError);
    expect(() => new Affonso(KEY, options as never)).toThrow(message);
  });
});

describe('where @affonso/sdk is unsafe, clawback stays safe', () => {
  it('does not retry a refund without external_event_id after a 5xx: Affonso could not tell a repeat, and it could refund twice', async () => {
    const server = await affonso({ status: 503, body: { success: false, error: { code: 'UNAVAILABLE' } }, headers: { 'retry-after': '0' } }, ok);
    const error = await client(server).conversions.refund('com_1', { amount: 10 }).catch((e: unknown) => e);
    expect(server.received).toHaveLength(1);
    expect(error).toMatchObject({ ambiguous: true, retryable: false });
    expect((error as Error).message).toMatch(/no external_event_id was sent/);
  });

  it('retries one with external_event_id, sending the very same request', async () => {
    const server = await affonso({ status: 503, body: {}, headers: { 'retry-after': '0' } }, ok);
    await client(server).conversions.refund('com_1', { amount: 10, external_event_id: 'evt_9' });
    expect(server.received).toHaveLength(2);
    expect(server.received[0]?.body).toBe(server.received[1]?.body);
  });

  it('never shows the key in an error, even when Affonso echoes it', async () => {
    const server = await affonso({ status: 401, body: { success: false, error: { code: 'INVALID_API_KEY', message: `key ${KEY} is invalid`, details: [KEY] } }, headers: { 'x-echo': KEY } });
    const error = await client(server).conversions.refund('com_1').catch((e: unknown) => e);
    const shown = [String(error), JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true }), JSON.stringify([...(error as AffonsoError).headers])].join('\n');
    expect(shown).not.toContain(KEY);
  });
});

describe("a custom fetch that returns a Response-like object, as the SDK's own tests mock it", () => {
  it('resolves from { ok, status, headers, json() }, and maps a failing one to the SDK class', async () => {
    const mocked = (status: number, body: unknown) =>
      new Affonso(KEY, { maxRetries: 0, fetch: (async () => ({ ok: status < 300, status, headers: new Headers({ 'x-request-id': 'req_mock' }), json: async () => body })) as never });
    expect(await mocked(200, { success: true, data: conversion }).conversions.refund('com_1')).toEqual(conversion);
    const error = await mocked(404, { success: false, error: { code: 'NOT_FOUND', message: 'nope' } }).conversions.refund('com_1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as AffonsoError).headers.get('x-request-id')).toBe('req_mock');
  });
});
