// ky carries every call (#11): one instance per provider, made once; a caller's own ky instance
// is extended, so its hooks run on every attempt while clawback's retry, timeout, redirect and
// credential rules stay in force.
import ky, { type KyInstance } from 'ky';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServerError, ValidationError, createAffonso, createRefCampaign, refund } from '../src/index.js';
import { startLoopbackServer, type LoopbackServer } from './support/hostile-server.js';

const servers: LoopbackServer[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

const KEY = 'sk_live_ky_test_key_0001';
const conversion = { id: 'com_1', status: 'refunded', sales_status: 'refunded' };

/** A loopback Affonso answering each request with the next status in `statuses` (the last repeats). */
async function affonso(statuses: number[], delayMs = 0): Promise<LoopbackServer> {
  const server = await startLoopbackServer(async (_, response) => {
    const status = statuses[Math.min(server.received.length, statuses.length) - 1] ?? 200;
    if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
    const body = status < 300 ? { success: true, data: conversion } : { success: false, error: { code: 'E', message: 'x' } };
    response.writeHead(status, { 'content-type': 'application/json', 'retry-after': '0' }).end(JSON.stringify(body));
  });
  servers.push(server);
  return server;
}

describe('one ky instance per provider', () => {
  it('is made when the provider is created, from the ky it was given, and reused by every call', async () => {
    const server = await affonso([200]);
    const base = ky.create({});
    const extend = vi.spyOn(base, 'extend');
    const provider = createAffonso({ apiKey: KEY, baseURL: server.url, rateLimit: false, ky: base });
    expect(extend).toHaveBeenCalledTimes(1);
    for (let i = 0; i < 3; i++) await refund({ provider, conversionId: 'com_1' });
    expect(extend).toHaveBeenCalledTimes(1);
    expect(server.received).toHaveLength(3);
  });

  it("ky's default instance when none is given", () => {
    const extend = vi.spyOn(ky, 'extend');
    createAffonso({ apiKey: KEY });
    expect(extend).toHaveBeenCalledTimes(1);
  });
});

describe("a caller's ky instance", () => {
  it('runs its hooks on every attempt: a tracing header on each, every response seen', async () => {
    const server = await affonso([503, 200]);
    const seen: Array<{ hook: string; retryCount: number; status?: number }> = [];
    const traced = ky.create({
      hooks: {
        beforeRequest: [({ request, retryCount }) => {
          request.headers.set('traceparent', '00-trace-span-01');
          seen.push({ hook: 'beforeRequest', retryCount });
        }],
        beforeRetry: [({ retryCount }) => void seen.push({ hook: 'beforeRetry', retryCount })],
        afterResponse: [({ response, retryCount }) => void seen.push({ hook: 'afterResponse', retryCount, status: response.status })],
      },
    });
    const provider = createAffonso({ apiKey: KEY, baseURL: server.url, rateLimit: false, ky: traced });
    await refund({ provider, conversionId: 'com_1', idempotencyKey: 'k-1' });
    expect(server.received.map((request) => request.headers.traceparent)).toEqual(['00-trace-span-01', '00-trace-span-01']);
    expect(seen).toEqual([
      { hook: 'beforeRequest', retryCount: 0 },
      { hook: 'afterResponse', retryCount: 0, status: 503 },
      { hook: 'beforeRetry', retryCount: 1 },
      { hook: 'afterResponse', retryCount: 1, status: 200 },
    ]);
  });

  it('sees the JSON body in its request hooks, on every attempt, and the vendor gets those very bytes', async () => {
    // Without a caller's instance clawback gives ky no body and its fetch sends it (a speed-up);
    // with one, the body must stay in ky's Request, since hooks like this one read it.
    const server = await affonso([503, 200]);
    const hookBodies: string[] = [];
    const read = async (request: Request) => void hookBodies.push(await request.clone().text());
    const provider = createAffonso({
      apiKey: KEY,
      baseURL: server.url,
      rateLimit: false,
      ky: ky.create({ hooks: { beforeRequest: [({ request }) => read(request)], beforeRetry: [({ request }) => read(request)] } }),
    });
    await refund({ provider, conversionId: 'com_1', amount: { value: 4_950, currency: 'USD' }, idempotencyKey: 'k-body' });
    const sent = JSON.stringify({ amount: 49.5, currency: 'USD', external_event_id: 'k-body' });
    expect(hookBodies).toEqual([sent, sent]);
    expect(server.received.map((request) => request.body)).toEqual([sent, sent]);

    // The same call without a caller's instance: the same bytes on each attempt.
    const plain = await affonso([503, 200]);
    await refund({ provider: createAffonso({ apiKey: KEY, baseURL: plain.url, rateLimit: false }), conversionId: 'com_1', amount: { value: 4_950, currency: 'USD' }, idempotencyKey: 'k-body' });
    expect(plain.received.map((request) => request.body)).toEqual([sent, sent]);
  });

  it("can read the answer in afterResponse (clawback has already read the body, within its limit)", async () => {
    const server = await affonso([200]);
    const bodies: unknown[] = [];
    const provider = createAffonso({
      apiKey: KEY,
      baseURL: server.url,
      rateLimit: false,
      ky: ky.create({ hooks: { afterResponse: [async ({ response }) => void bodies.push(await response.json())] } }),
    });
    const result = await refund({ provider, conversionId: 'com_1' });
    expect(bodies).toEqual([{ success: true, data: conversion }]);
    expect(result.raw).toEqual({ success: true, data: conversion });
  });

  it('cannot change the credentials, the timeout, the retries or the redirect policy', async () => {
    const server = await affonso([400, 503, 503, 200], 50);
    const hostile = ky.create({
      headers: { authorization: 'Bearer not-the-key' },
      timeout: 1,
      throwHttpErrors: false,
      redirect: 'follow',
      retry: { limit: 10, methods: ['post'], statusCodes: [400, 503] },
      hooks: {
        beforeRequest: [({ request }) => void request.headers.set('authorization', 'Bearer hijacked')],
        beforeRetry: [({ request }) => new Request(request, { headers: { authorization: 'Bearer hijacked' }, redirect: 'follow' })],
      },
    });
    const provider = createAffonso({ apiKey: KEY, baseURL: server.url, rateLimit: false, ky: hostile });
    // A 400 is final: not retried, whatever the caller's statusCodes say; the 50 ms answer
    // arrived, although the caller's instance has a 1 ms timeout.
    const error = await refund({ provider, conversionId: 'com_1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'BadRequestError', status: 400 });
    expect(server.received).toHaveLength(1);
    expect(server.received[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('cannot make clawback retry what could refund twice: a RefCampaign partial refund after a 503', async () => {
    const server = await startLoopbackServer((_, response) => response.writeHead(503, { 'retry-after': '0' }).end('{}'));
    servers.push(server);
    const eager = ky.create({ retry: { limit: 5, methods: ['post'], statusCodes: [503] } });
    const provider = createRefCampaign({ apiKey: 'rc_live_ky_0001', baseURL: server.url, ky: eager });
    const error = await refund({ provider, conversionId: 'order_1', amount: { value: 100, currency: 'EUR' } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServerError);
    expect(error).toMatchObject({ retryable: false, ambiguous: true });
    expect(server.received).toHaveLength(1);
  });

  it("uses the instance's own fetch (a proxy, say)", async () => {
    const server = await affonso([200]);
    const through: string[] = [];
    const proxied = ky.create({
      fetch: (input, init) => {
        through.push(input instanceof Request ? input.url : String(input));
        return fetch(input, init);
      },
    });
    await refund({ provider: createAffonso({ apiKey: KEY, baseURL: server.url, rateLimit: false, ky: proxied }), conversionId: 'com_1' });
    expect(through).toEqual([`${server.url}/v1/conversions/com_1/refund`]);
  });

  it('refuses both a fetch setting and a ky instance with its own fetch', () => {
    const proxied = ky.create({ fetch: (input, init) => fetch(input, init) });
    expect(() => createAffonso({ apiKey: KEY, fetch: (input, init) => fetch(input, init), ky: proxied })).toThrow(ValidationError);
    expect(() => createAffonso({ apiKey: KEY, fetch: (input, init) => fetch(input, init), ky: proxied })).toThrow(/fetch: is set, and so is the fetch of the ky instance/);
  });

  it.each([[{}], ['ky'], [() => undefined]])('refuses %j as a ky instance', (value) => {
    expect(() => createAffonso({ apiKey: KEY, ky: value as unknown as KyInstance })).toThrow(/settings: ky: must be a ky instance/);
  });
});
