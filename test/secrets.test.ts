import { inspect } from 'node:util';
import ky, { isKyError } from 'ky';
import { describe, expect, it } from 'vitest';
import { ClawbackError, createAffixo, createAffonso, refund } from '../src/index.js';
import { empty, hang, json, mockPost, networkError, refusingBaseURL, text, useVendorMock, type Reply } from './support/vendor-mock.js';
import { vendors, type VendorCase } from './support/vendors.js';

useVendorMock();

/** Every rendering of an error a log line or error tracker might capture. */
function renderings(error: unknown): string[] {
  const chain: unknown[] = [];
  for (let current: unknown = error; current !== undefined && chain.length < 10; current = (current as Error).cause) {
    chain.push(current);
  }
  return chain.flatMap((item) => [
    String(item),
    (item as Error).message ?? '',
    (item as Error).stack ?? '',
    JSON.stringify(item) ?? '',
    inspect(item, { showHidden: true, depth: Infinity, getters: true }),
  ]);
}

/** An error body in this vendor's envelope that echoes the key back, as a careless vendor might. */
function echoingBody(vendor: VendorCase): Record<string, unknown> {
  const said = `Invalid API key: ${vendor.apiKey}`;
  switch (vendor.name) {
    case 'affixo':
      return { error: 'unauthorized', detail: said };
    case 'firstpromoter':
      return { message: said };
    default:
      return { success: false, error: { code: 'UNAUTHORIZED', message: said, details: [said] } };
  }
}

describe.each(vendors)('$name: the API key never leaks', (vendor) => {
  const replies: Array<[string, (v: VendorCase) => Reply]> = [
    ['401 echoing the key', (v) => json(echoingBody(v), 401)],
    ['500 HTML echoing the key', (v) => text(`<html>upstream said: ${v.apiKey}</html>`, 500)],
    ['429 with a huge Retry-After', () => json({}, 429, { 'retry-after': '99999' })],
    ['2xx off the schema echoing the key', (v) => json([v.apiKey])],
    // RefCampaign documents no 200 body, so an empty 2xx is a refund applied there.
    ...(vendor.name === 'refcampaign' ? [] : ([['an empty 204', () => empty(204)]] as Array<[string, (v: VendorCase) => Reply]>)),
    ['a dropped connection', () => networkError()],
    ['a timeout', () => hang()],
    ['500 with headers echoing the key', (v) => json({}, 500, { 'x-debug': `key=${v.apiKey}`, 'set-cookie': `s=${v.apiKey}` })],
  ];

  it.each(replies)('%s: not in the error, the logger or the hooks', async (_, reply) => {
    mockPost(vendor.url, reply(vendor));
    const seen: unknown[] = [];
    const record = (...args: unknown[]) => seen.push(args);
    const provider = vendor.create({
      maxRetries: 0,
      timeout: 100,
      logger: { debug: record, warn: record },
      onRequest: record,
      onResponse: record,
    });
    const error = await refund({ provider, ...vendor.options } as never).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    for (const rendering of renderings(error)) expect(rendering).not.toContain(vendor.apiKey);
    expect(seen.length).toBeGreaterThanOrEqual(4); // request and response, each to a hook and the logger
    expect(inspect(seen, { depth: Infinity })).not.toContain(vendor.apiKey);
  });

  it('a retried call: not in the logger or the hooks', async () => {
    mockPost(vendor.url, json({}, 503, { 'retry-after': '0' }), vendor.ok);
    const seen: unknown[] = [];
    const record = (...args: unknown[]) => seen.push(args);
    const provider = vendor.create({ logger: { debug: record, warn: record }, onRequest: record, onResponse: record });
    await refund({ provider, ...vendor.options, idempotencyKey: 'k-1' } as never).catch(() => undefined);
    expect(inspect(seen, { depth: Infinity })).toContain('authorization');
    expect(inspect(seen, { depth: Infinity })).not.toContain(vendor.apiKey);
  });

  it('a refused connection', async () => {
    const error = await refund({
      provider: vendor.create({ baseURL: await refusingBaseURL(), maxRetries: 0 }),
      ...vendor.options,
    } as never).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    for (const rendering of renderings(error)) expect(rendering).not.toContain(vendor.apiKey);
  });

  it('a custom fetch whose error carries the request (and so the Authorization header)', async () => {
    const leakyFetch = async (input: Request | URL | string) => {
      const failure = new TypeError(`fetch failed for ${String((input as Request).headers?.get('authorization'))}`);
      throw Object.assign(failure, { request: input });
    };
    const error = await refund({
      provider: vendor.create({ fetch: leakyFetch, maxRetries: 0 }),
      ...vendor.options,
    } as never).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    for (const rendering of renderings(error)) expect(rendering).not.toContain(vendor.apiKey);
  });

  it('an abort during the backoff, with the last failure in its cause chain', async () => {
    mockPost(vendor.url, json(echoingBody(vendor), 503, { 'retry-after': '5' }));
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await refund({ provider: vendor.create(), ...vendor.options, signal: controller.signal } as never).catch(
      (e: unknown) => e,
    );
    expect((error as Error).cause).toBeDefined();
    for (const rendering of renderings(error)) expect(rendering).not.toContain(vendor.apiKey);
  });

  it('a 2xx body over 1 MiB that echoes the key', async () => {
    mockPost(vendor.url, text(`${vendor.apiKey} ${'x'.repeat(1_100_000)}`, 200));
    const error = await refund({ provider: vendor.create(), ...vendor.options } as never).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    for (const rendering of renderings(error)) expect(rendering).not.toContain(vendor.apiKey);
  });

  it('a call the rate limit holds past its totalTimeout', async () => {
    mockPost(vendor.url, vendor.ok);
    const provider = vendor.create({ rateLimit: { limit: 1, interval: 60_000 } });
    await refund({ provider, ...vendor.options } as never);
    const error = await refund({ provider, ...vendor.options, totalTimeout: 50 } as never).catch((e: unknown) => e);
    for (const rendering of renderings(error)) expect(rendering).not.toContain(vendor.apiKey);
  });

  it('the provider object itself', () => {
    const provider = vendor.create();
    expect(inspect(provider, { showHidden: true, depth: Infinity })).not.toContain(vendor.apiKey);
    expect(JSON.stringify(provider)).not.toContain(vendor.apiKey);
  });
});

describe('keys refused before the network are not echoed either', () => {
  it.each([
    ['an Affixo affiliate key', () => createAffixo({ apiKey: 'refa_live_secret_affiliate_key_9' }), 'refa_live_secret_affiliate_key_9'],
    ['a key with a line break', () => createAffonso({ apiKey: 'sk_live_secret_with_newline_9\n' }), 'sk_live_secret_with_newline_9'],
  ])('%s', async (_, create, key) => {
    const error = await refund({ provider: create(), conversionId: 'o' } as never).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    for (const rendering of renderings(error)) expect(rendering).not.toContain(key);
  });
});

/**
 * Every value reachable from `root` (own properties, cause chains, arrays), each with its path.
 * ky's errors hold the `Request` (and so the Authorization header) as `request`, and its
 * options as `options`; none of them may be among these.
 */
function reachable(root: unknown): Array<[string, unknown]> {
  const found: Array<[string, unknown]> = [];
  const seen = new Set<unknown>();
  const walk = (value: unknown, path: string) => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    found.push([path, value]);
    const keys = new Set([...Object.getOwnPropertyNames(value), ...(value instanceof Error ? ['cause'] : [])]);
    for (const key of keys) walk((value as Record<string, unknown>)[key], `${path}.${key}`);
  };
  walk(root, '$');
  return found;
}

const kyObjects = (root: unknown) =>
  reachable(root)
    // ky's guards match by name, and clawback's TimeoutError shares one with ky's: skip clawback's.
    .filter(([, value]) => value instanceof Request || value instanceof Response || value instanceof Headers || (!ClawbackError.isInstance(value) && isKyError(value)))
    .map(([path]) => path);

describe.each(vendors)("$name: none of ky's objects reaches a caller", (vendor) => {
  it.each([
    ['an HTTP error (ky HTTPError)', () => json({ error: 'boom' }, 500)],
    ['a timeout (ky TimeoutError)', () => hang()],
    ['a dropped connection (ky NetworkError)', () => networkError()],
    ['a 2xx off the schema', () => json(['unexpected'])],
  ])('%s: not in the error, its causes, its body, or the hook events', async (_, reply) => {
    mockPost(vendor.url, reply());
    const events: unknown[] = [];
    const record = (event: unknown) => void events.push(event);
    const provider = vendor.create({ maxRetries: 1, timeout: 100, onRequest: record, onResponse: record, logger: { debug: (...args) => events.push(args), warn: (...args) => events.push(args) } });
    const error = await refund({ provider, ...vendor.options } as never).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    expect(kyObjects(error)).toEqual([]);
    expect(kyObjects(events)).toEqual([]);
    for (const rendering of renderings(error)) expect(rendering).not.toContain(vendor.apiKey);
  });

  it("through a caller's ky instance whose beforeError hook hands ky's error on", async () => {
    mockPost(vendor.url, json({ error: 'boom' }, 500));
    const passthrough = ky.create({ hooks: { beforeError: [({ error }) => error] } });
    const error = await refund({ provider: vendor.create({ maxRetries: 0, ky: passthrough }), ...vendor.options } as never).catch((e: unknown) => e);
    expect(ClawbackError.isInstance(error)).toBe(true);
    expect(kyObjects(error)).toEqual([]);
  });
});
