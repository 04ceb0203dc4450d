import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ValidationError,
  createAffixo,
  createAffonso,
  createFirstPromoter,
  createRefCampaign,
  refund,
} from '../src/index.js';
import { json, mockPost, useVendorMock } from './support/vendor-mock.js';
import { vendors } from './support/vendors.js';

useVendorMock();
afterEach(() => vi.unstubAllEnvs());

const factories = [
  ['affixo', createAffixo, 'AFFIXO_API_KEY'],
  ['affonso', createAffonso, 'AFFONSO_API_KEY'],
  ['refcampaign', createRefCampaign, 'REFCAMPAIGN_API_KEY'],
  ['firstpromoter', createFirstPromoter, 'FIRSTPROMOTER_API_KEY'],
] as const;

describe.each(vendors)('$name: API key', (vendor) => {
  const [, create, envName] = factories.find(([name]) => name === vendor.name) ?? [];
  if (!create || !envName) throw new Error(`no factory for ${vendor.name}`);
  const settings = vendor.name === 'firstpromoter' ? { accountId: 'acc_1' } : {};

  it(`falls back to ${envName}`, async () => {
    vi.stubEnv(envName, 'sa_live_from_env_0001');
    const calls = mockPost(vendor.url, vendor.ok);
    await refund({ provider: create(settings), ...vendor.options } as never);
    expect(calls[0]?.headers.authorization).toBe('Bearer sa_live_from_env_0001');
  });

  it('treats apiKey: undefined (an unset variable) as absent, and falls back', async () => {
    vi.stubEnv(envName, 'sa_live_from_env_0001');
    const calls = mockPost(vendor.url, vendor.ok);
    const unset: string | undefined = undefined;
    await refund({ provider: create({ ...settings, apiKey: unset, baseURL: unset }), ...vendor.options } as never);
    expect(calls[0]?.headers.authorization).toBe('Bearer sa_live_from_env_0001');
  });

  it('prefers the explicit apiKey over the environment', async () => {
    vi.stubEnv(envName, 'sa_live_from_env_0001');
    const calls = mockPost(vendor.url, vendor.ok);
    await refund({ provider: create({ ...settings, apiKey: 'sa_live_explicit_0001' }), ...vendor.options } as never);
    expect(calls[0]?.headers.authorization).toBe('Bearer sa_live_explicit_0001');
  });

  it('refuses to send without a key, saying how to provide one', async () => {
    vi.stubEnv(envName, '');
    const calls = mockPost(vendor.url, vendor.ok);
    const provider = create(settings); // creating it is fine: the key is read at the first call
    const error = await refund({ provider, ...vendor.options } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('apiKey');
    expect((error as Error).message).toContain(`set the ${envName} environment variable`);
    expect(calls).toHaveLength(0);
  });

  it('refuses a key with a line break (a secrets-file newline) without echoing it', async () => {
    vi.stubEnv(envName, 'sa_live_with_newline_0001\n');
    const calls = mockPost(vendor.url, vendor.ok);
    const error = await refund({ provider: create(settings), ...vendor.options } as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as Error).message).toContain(`check the ${envName} environment variable`);
    expect((error as Error).message).not.toContain('sa_live_with_newline_0001');
    expect(calls).toHaveLength(0);
  });
});

describe('FirstPromoter Account-ID', () => {
  const [, , , fp] = vendors;
  if (!fp) throw new Error('vendor table is incomplete');

  it('falls back to FIRSTPROMOTER_ACCOUNT_ID', async () => {
    vi.stubEnv('FIRSTPROMOTER_ACCOUNT_ID', 'acc_env');
    const calls = mockPost(fp.url, fp.ok);
    await refund({ provider: createFirstPromoter({ apiKey: 'fp_key_0001' }), ...fp.options } as never);
    expect(calls[0]?.headers['account-id']).toBe('acc_env');
  });

  it('refuses to send without one', async () => {
    vi.stubEnv('FIRSTPROMOTER_ACCOUNT_ID', '');
    const calls = mockPost(fp.url, fp.ok);
    const error = await refund({ provider: createFirstPromoter({ apiKey: 'fp_key_0001' }), ...fp.options } as never).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('accountId');
    expect(calls).toHaveLength(0);
  });
});

describe('baseURL', () => {
  it.each([
    ['http://127.0.0.1:8787/emulator/affonso', 'http://127.0.0.1:8787/emulator/affonso/v1/conversions/com_1/refund'],
    ['http://127.0.0.1:8787/emulator/affonso/', 'http://127.0.0.1:8787/emulator/affonso/v1/conversions/com_1/refund'],
    ['https://proxy.internal', 'https://proxy.internal/v1/conversions/com_1/refund'],
  ])('%s keeps its path prefix before the documented path', async (baseURL, expectedURL) => {
    const calls = mockPost(expectedURL, json({ success: true, data: { id: 'com_1', status: 'paid', sales_status: 'refunded' } }));
    await refund({ provider: createAffonso({ apiKey: 'sk_live_x_0001', baseURL }), conversionId: 'com_1' });
    expect(calls[0]?.url).toBe(expectedURL);
  });

  it.each([
    ['not a url', /absolute http\(s\) URL/],
    ['ftp://example.com', /absolute http\(s\) URL/],
    ['https://example.com/api?token=1', /query string or fragment/],
    ['https://user:pass@example.com', /must not contain credentials/],
  ])('refuses %j when the provider is created', (baseURL, message) => {
    const create = () => createAffixo({ apiKey: 'sa_live_x_0001', baseURL });
    expect(create).toThrow(ValidationError);
    expect(create).toThrow(message);
  });
});

describe('other settings', () => {
  it('suggests the right name for a misspelt setting', () => {
    expect(() => createAffonso({ apiKey: 'k_0001', baseUrl: 'http://localhost' } as never)).toThrow(
      'Invalid createAffonso() settings: baseUrl: is not a known option (did you mean "baseURL"?)',
    );
  });

  it.each([
    [{ timeout: -1 }, 'timeout'],
    [{ maxRetries: 2.5 }, 'maxRetries'],
    [{ fetch: 'fetch' }, 'fetch'],
    [{ headers: { 'x-trace': 5 } }, 'headers.x-trace'],
    [{ headers: { 'x-trace': 'a\r\nInjected: yes' } }, 'headers.x-trace'],
    [{ headers: { 'bad header': 'x' } }, 'headers.bad header'],
    [{ headers: ['x-trace'] }, 'headers'],
    [{ apiKey: '' }, 'apiKey'],
    [{ rateLimit: true }, 'rateLimit'],
    [{ rateLimit: { limit: 0, interval: 1_000 } }, 'rateLimit.limit'],
    [{ rateLimit: { limit: 10, interval: 1_000, burst: 2 } }, 'rateLimit.burst'],
    [{ rateLimit: [{ limit: 10, interval: 1_000 }, { limit: 10, interval: 1.5 }] }, 'rateLimit.1.interval'],
    [{ rateLimit: [false] }, 'rateLimit.0'],
  ])('refuses %j', (settings, field) => {
    let error: unknown;
    try {
      createRefCampaign(settings as never);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
  });

  it('sends custom headers, but never lets them replace the credentials', async () => {
    const [affixo] = vendors;
    if (!affixo) throw new Error('vendor table is empty');
    const calls = mockPost(affixo.url, affixo.ok);
    await refund({
      provider: createAffixo({
        apiKey: 'sa_live_real_0001',
        headers: { 'x-trace-id': 'trace-1', Authorization: 'Bearer someone-else', 'Content-Type': 'text/plain', Accept: 'text/html' },
      }),
      conversionId: 'o',
    });
    expect(calls[0]?.headers['x-trace-id']).toBe('trace-1');
    expect(calls[0]?.headers.authorization).toBe('Bearer sa_live_real_0001');
    expect(calls[0]?.headers['content-type']).toBe('application/json');
    expect(calls[0]?.headers.accept).toBe('application/json');
  });

  it('lets a per-call timeout override the provider timeout', async () => {
    const [affixo] = vendors;
    if (!affixo) throw new Error('vendor table is empty');
    mockPost(affixo.url, () => new Promise((resolve) => setTimeout(() => resolve(Response.json({ ok: true })), 300)));
    const provider = createAffixo({ apiKey: 'sa_live_x_0001', timeout: 50, maxRetries: 0 });
    await expect(refund({ provider, conversionId: 'o', timeout: 2_000 })).resolves.toMatchObject({ status: 'refunded' });
    const error = await createAffixo({ apiKey: 'sa_live_x_0001', maxRetries: 0 })
      .track.refund({ external_id: 'o' }, { timeout: 40 })
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/did not answer within 40 ms/);
  });

  it('uses the provider timeout when the call gives none', async () => {
    const [affixo] = vendors;
    if (!affixo) throw new Error('vendor table is empty');
    mockPost(affixo.url, () => new Promise((resolve) => setTimeout(() => resolve(Response.json({ ok: true })), 1_000)));
    const error = await refund({ provider: createAffixo({ apiKey: 'sa_live_x_0001', timeout: 50, maxRetries: 0 }), conversionId: 'o' }).catch(
      (e: unknown) => e,
    );
    expect((error as Error).message).toMatch(/did not answer within 50 ms/);
  });
});

describe("a baseURL that already ends in the start of the vendor's paths", () => {
  it.each([
    ['affonso', () => createAffonso({ apiKey: 'sk_live_x_0001', baseURL: 'https://api.affonso.io/v1' }), '/v1', 'https://api.affonso.io'],
    ['affonso (trailing slash)', () => createAffonso({ apiKey: 'sk_live_x_0001', baseURL: 'https://api.affonso.io/v1/' }), '/v1', 'https://api.affonso.io'],
    ['affixo', () => createAffixo({ apiKey: 'sa_live_x_0001', baseURL: 'https://go.affixo.dev/v1' }), '/v1', 'https://go.affixo.dev'],
    ['refcampaign', () => createRefCampaign({ apiKey: 'rc_live_x_0001', baseURL: 'https://app.refcampaign.com/api/v1' }), '/api/v1', 'https://app.refcampaign.com'],
    ['firstpromoter (the OpenAPI server)', () => createFirstPromoter({ apiKey: 'fp_x_0001', baseURL: 'https://api.firstpromoter.com/api/v2/track' }), '/api/v2/track', 'https://api.firstpromoter.com'],
    ['firstpromoter', () => createFirstPromoter({ apiKey: 'fp_x_0001', baseURL: 'https://api.firstpromoter.com/api/v2' }), '/api/v2', 'https://api.firstpromoter.com'],
    ['a proxy prefix before it', () => createAffonso({ apiKey: 'sk_live_x_0001', baseURL: 'https://proxy.example/affonso/v1' }), '/v1', 'https://proxy.example/affonso'],
  ])('%s: refused, saying what to write instead', (_, create, prefix, instead) => {
    let error: unknown;
    try {
      create();
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('baseURL');
    expect((error as Error).message).toContain(`ends with ${prefix}, which clawback adds itself`);
    expect((error as Error).message).toContain(`pass "${instead}" instead`);
  });

  it('a path that only contains it elsewhere is fine', () => {
    expect(() => createAffonso({ apiKey: 'sk_live_x_0001', baseURL: 'https://proxy.example/v1/affonso' })).not.toThrow();
    expect(() => createRefCampaign({ apiKey: 'rc_live_x_0001', baseURL: 'https://app.test.refcampaign.com' })).not.toThrow();
  });
});
