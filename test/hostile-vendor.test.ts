// A misbehaving vendor on loopback, tried as an attacker would (#12): redirects, keys echoed
// in JSON escapes and other encodings, compressed bodies that inflate past the read cap, and
// input fetch itself refuses. Real sockets, no msw: these faults live below what msw mocks.
import { inspect } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { ClawbackError, ValidationError, createAffixo, createAffonso, createFirstPromoter, refund, type RefundProvider } from '../src/index.js';
import { startLoopbackServer, type LoopbackServer } from './support/hostile-server.js';

const servers: LoopbackServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function serve(...args: Parameters<typeof startLoopbackServer>) {
  const server = await startLoopbackServer(...args);
  servers.push(server);
  return server;
}

/** Everything of an error a log line or an error tracker could capture. */
const rendered = (error: unknown) =>
  [String(error), JSON.stringify(error), inspect(error, { depth: Infinity, showHidden: true, getters: true }), JSON.stringify((error as ClawbackError).body)].join('\n');

const KEY = 'sk_live_hostile/test_key_0001';
const affonsoOk = JSON.stringify({ success: true, data: { id: 'com_1', status: 'refunded', sales_status: 'refunded' } });

describe('redirects are never followed on a refund', () => {
  it.each([301, 302, 303])('a %i to another host: nothing reaches it, and the call fails as a redirect that refunded nothing', async (status) => {
    const elsewhere = await serve((_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(affonsoOk));
    const vendor = await serve((_, response) => response.writeHead(status, { location: `${elsewhere.url}/v1/conversions/com_1/refund` }).end());
    const error = await refund({
      provider: createAffonso({ apiKey: KEY, baseURL: vendor.url, rateLimit: false }),
      conversionId: 'com_1',
    }).catch((e: unknown) => e);
    expect(elsewhere.received).toHaveLength(0);
    expect(vendor.received).toHaveLength(1);
    expect((error as Error).name).toBe('RedirectError');
    expect(error).toMatchObject({ status, retryable: false, ambiguous: false });
    expect((error as Error).message).toContain(`redirect to ${elsewhere.url}/v1/conversions/com_1/refund`);
    expect((error as Error).message).toMatch(/nothing was refunded there/);
  });

  it("a 307 does not replay the body, FirstPromoter's Account-ID or a caller's proxy token to the other host", async () => {
    const elsewhere = await serve((_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end('{"id":1}'));
    const vendor = await serve((_, response) => response.writeHead(307, { location: `${elsewhere.url}/steal` }).end());
    const error = await refund({
      provider: createFirstPromoter({ apiKey: KEY, accountId: 'acc_hostile', baseURL: vendor.url, rateLimit: false, headers: { 'x-proxy-token': 'pt_secret' } }),
      conversionId: 'sale_1',
      amount: { value: 4950, currency: 'USD' },
      customer: { uid: 'lead_1' },
    }).catch((e: unknown) => e);
    expect(elsewhere.received).toEqual([]);
    expect((error as Error).name).toBe('RedirectError');
  });

  it('a same-host 301 does not send Authorization along to the new path', async () => {
    const vendor = await serve((request, response) => {
      if (request.path === '/moved') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      response.writeHead(301, { location: '/moved' }).end();
    });
    const error = await refund({ provider: createAffixo({ apiKey: 'sa_live_hostile_0001', baseURL: vendor.url, rateLimit: false }), conversionId: 'o' }).catch(
      (e: unknown) => e,
    );
    expect(vendor.received.map((request) => request.path)).toEqual(['/v1/track/refund']);
    expect(error).toMatchObject({ name: 'RedirectError', status: 301 });
  });

  it('a redirect to a URL carrying the key does not show the key in the error', async () => {
    const vendor = await serve((_, response) => response.writeHead(302, { location: `https://evil.example/?k=${encodeURIComponent(KEY)}` }).end());
    const error = await refund({ provider: createAffonso({ apiKey: KEY, baseURL: vendor.url, rateLimit: false }), conversionId: 'com_1' }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).name).toBe('RedirectError');
    expect(rendered(error)).not.toContain(KEY);
    expect(rendered(error)).not.toContain(encodeURIComponent(KEY));
  });
});

describe('a key echoed back in another spelling is still redacted', () => {
  const jsonEscaped = [...KEY].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
  const slashEscaped = KEY.replace(/\//g, '\\/');
  const base64 = Buffer.from(`Bearer ${KEY}`).toString('base64');
  it.each([
    ['\\u-escaped', `{"success":false,"error":{"code":"UNAUTHORIZED","message":"bad key ${jsonEscaped}","details":["${jsonEscaped}"]}}`],
    ['\\/-escaped', `{"success":false,"error":{"code":"UNAUTHORIZED","message":"bad key ${slashEscaped}"}}`],
    ['URL-encoded', `{"success":false,"error":{"code":"UNAUTHORIZED","message":"bad key ${encodeURIComponent(KEY)}"}}`],
    ['base64 (of the Authorization header)', `{"success":false,"error":{"code":"UNAUTHORIZED","message":"echo ${base64}"}}`],
    ['as an object key', `{"success":false,"error":{"code":"UNAUTHORIZED","details":{"${jsonEscaped}":true}}}`],
  ])('%s: not in error.body, JSON.stringify(error) or util.inspect(error)', async (_, body) => {
    const vendor = await serve((_, response) => response.writeHead(401, { 'content-type': 'application/json' }).end(body));
    const error = await refund({ provider: createAffonso({ apiKey: KEY, baseURL: vendor.url, rateLimit: false }), conversionId: 'com_1' }).catch(
      (e: unknown) => e,
    );
    expect(ClawbackError.isInstance(error)).toBe(true);
    expect((error as ClawbackError).status).toBe(401);
    const shown = rendered(error);
    for (const form of [KEY, encodeURIComponent(KEY), base64.slice(12, 40)]) expect(shown).not.toContain(form);
    expect(shown).toContain('[redacted]');
  });

  it('in a 2xx the adapter reads: not in result.raw either', async () => {
    const vendor = await serve((_, response) =>
      response
        .writeHead(200, { 'content-type': 'application/json' })
        .end(`{"success":true,"data":{"id":"com_1","status":"refunded","sales_status":"refunded","note":"${jsonEscaped}"}}`),
    );
    const result = await refund({ provider: createAffonso({ apiKey: KEY, baseURL: vendor.url, rateLimit: false }), conversionId: 'com_1' });
    expect(JSON.stringify(result)).not.toContain(KEY);
    expect(result.raw).toMatchObject({ data: { note: '[redacted]' } });
  });
});

describe('the 1 MiB read cap counts decoded bytes', () => {
  const provider = (baseURL: string): RefundProvider => createAffonso({ apiKey: KEY, baseURL, rateLimit: false, maxRetries: 0 });

  it('a small gzip that inflates to 64 MB is cut at the cap, not read whole', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.byteLength).toBeLessThan(MiB(1));
    const vendor = await serve((_, response) =>
      response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(bomb.byteLength) }).end(bomb),
    );
    const error = await refund({ provider: provider(vendor.url), conversionId: 'com_1', idempotencyKey: 'k-bomb' }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('ResponseValidationError');
    expect((error as Error).message).toMatch(/a body over 1048576 bytes/);
    expect(error).toMatchObject({ ambiguous: true, retryable: true, idempotencyKey: 'k-bomb' });
  });

  it('an error answer inflating past the cap keeps only the start of its body', async () => {
    const bomb = gzipSync(Buffer.from(`<html>${'x'.repeat(8 * 1024 * 1024)}</html>`));
    const vendor = await serve((_, response) => response.writeHead(502, { 'content-type': 'text/html', 'content-encoding': 'gzip' }).end(bomb));
    const error = await refund({ provider: provider(vendor.url), conversionId: 'com_1' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'ServerError', status: 502 });
    expect(String((error as ClawbackError).body).length).toBeLessThanOrEqual(2_001);
  });
});

describe('input fetch would refuse is caught before the network, or reported as not sent', () => {
  it.each([
    ['a character beyond Latin-1', 'héllo€', /Latin-1/],
    ['a line break', 'a\nb', /line breaks/],
    ['a control character', 'a\u0007b', /control characters/],
  ])('a header value with %s: ValidationError naming the header, nothing sent', async (_, value, message) => {
    const vendor = await serve((_, response) => response.writeHead(200, { 'content-type': 'application/json' }).end(affonsoOk));
    const error = await refund({
      provider: createAffonso({ apiKey: KEY, baseURL: vendor.url, rateLimit: false }),
      conversionId: 'com_1',
      headers: { 'x-note': value },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('headers.x-note');
    expect((error as ValidationError).issues[0]?.message).toMatch(message);
    expect(vendor.received).toHaveLength(0);
  });

  it('the same, in the provider settings', () => {
    expect(() => createAffonso({ apiKey: KEY, headers: { 'x-note': 'héllo€' } })).toThrow(/settings: headers\.x-note: can only hold Latin-1/);
  });

  it('a port fetch refuses ("bad port") is reported as not sent: retryable, not ambiguous', async () => {
    let attempts = 0;
    const counting = (input: Request | URL | string, init?: RequestInit) => {
      attempts += 1;
      return fetch(input, init);
    };
    const error = await refund({
      provider: createAffonso({ apiKey: KEY, baseURL: 'http://127.0.0.1:6000', rateLimit: false, maxRetries: 0, fetch: counting }),
      conversionId: 'com_1',
      amount: { value: 100, currency: 'USD' },
    }).catch((e: unknown) => e);
    expect((error as Error).name).toBe('ConnectionError');
    expect(error).toMatchObject({ ambiguous: false, retryable: true });
    expect((error as Error).message).toMatch(/the request was not sent/);
    expect(attempts).toBe(1);
  });
});

function MiB(count: number) {
  return count * 1024 * 1024;
}
