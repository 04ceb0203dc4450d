// A runtime may refuse what Node allows. Deno without --allow-env throws on every environment read
// ("NotCapable: Requires env access to …"): an optional variable that cannot be read is unset, a
// required one is a ValidationError naming the variable and the permission, and nothing but a
// ClawbackError ever leaves refund(), refundMany(), the native calls or the compat clients.
// Node has no such refusal, so process.env refuses here the way Deno's does, for one call at a
// time; the consumer suite runs the packed package in Deno itself.
import { afterEach, describe, expect, it } from 'vitest';
import { ClawbackError, ValidationError, createAffixo, createAffonso, refund, refundMany } from '../src/index.js';
import { Affonso } from '../src/compat/affonso.js';
import { json, mockPost, useVendorMock } from './support/vendor-mock.js';

useVendorMock();

class NotCapable extends Error {
  override name = 'NotCapable';
}

const realEnv = process.env;
/**
 * process.env as Deno's is without access to the vendors' variables: reading one throws, naming
 * it. (Node's own reads, such as undici's, still get the real environment.)
 */
function refuseEnvironment() {
  const vendorVariable = (name: string | symbol) => typeof name === 'string' && /^(AFFIXO|AFFONSO|REFCAMPAIGN|FIRSTPROMOTER)_/.test(name);
  const refuse = (name: string | symbol) => {
    throw new NotCapable(`Requires env access to "${String(name)}", run again with the --allow-env flag`);
  };
  process.env = new Proxy(realEnv, {
    get: (target, name) => (vendorVariable(name) ? refuse(name) : Reflect.get(target, name)),
    has: (target, name) => (vendorVariable(name) ? refuse(name) : Reflect.has(target, name)),
  });
}
afterEach(() => {
  process.env = realEnv;
});

const AFFONSO_URL = 'https://api.affonso.io/v1/conversions/com_1/refund';
const conversion = { success: true, data: { id: 'com_1', status: 'refunded', sales_status: 'refunded' } };

describe('an environment the runtime will not let clawback read', () => {
  it('an optional variable (AFFONSO_SIGNING_SECRET) reads as unset: refund(), refundMany, native and compat calls all send', async () => {
    const calls = mockPost(AFFONSO_URL, json(conversion));
    refuseEnvironment();
    const provider = createAffonso({ apiKey: 'sk_live_refused_env_0001' });
    await expect(refund({ provider, conversionId: 'com_1' })).resolves.toMatchObject({ status: 'refunded' });
    const [outcome] = await refundMany([{ provider, conversionId: 'com_1' }]);
    expect(outcome).toMatchObject({ ok: true });
    await expect(provider.conversions.refund('com_1', {})).resolves.toMatchObject({ id: 'com_1' });
    await expect(new Affonso('sk_live_refused_env_0001').conversions.refund('com_1')).resolves.toMatchObject({ id: 'com_1' });
    expect(calls).toHaveLength(4);
    expect(calls.every((call) => call.headers['x-affonso-signature'] === undefined)).toBe(true);
  });

  it('a required variable that cannot be read is a ValidationError naming it and the permission; nothing is sent', async () => {
    const calls = mockPost('https://go.affixo.dev/v1/track/refund', json({ ok: true }));
    refuseEnvironment();
    const error = await refund({ provider: createAffixo(), conversionId: 'order_1' }).catch((caught: unknown) => caught);
    process.env = realEnv;
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as ValidationError).field).toBe('apiKey');
    expect((error as Error).message).toBe(
      'createAffixo() settings: apiKey: is missing: pass apiKey to createAffixo() or set the AFFIXO_API_KEY environment variable, which this runtime did not let clawback read (NotCapable: Requires env access to "AFFIXO_API_KEY", run again with the --allow-env flag); on Deno, run with --allow-env=AFFIXO_API_KEY',
    );
    expect(calls).toHaveLength(0);
  });

  it('refundMany reports it as that ValidationError, not "Unexpected failure"', async () => {
    refuseEnvironment();
    const [outcome] = await refundMany([{ provider: createAffixo(), conversionId: 'order_1' }]);
    process.env = realEnv;
    expect(outcome?.ok).toBe(false);
    expect(outcome?.ok === false && ValidationError.isInstance(outcome.error)).toBe(true);
  });
});

describe('no error other than a ClawbackError leaves a refund call', () => {
  it('an options object whose getter throws is a ValidationError, before anything is sent', async () => {
    const options = {
      provider: createAffixo({ apiKey: 'sa_live_getter_0001' }),
      get conversionId(): string {
        throw new TypeError('boom');
      },
    };
    const error = await refund(options).catch((caught: unknown) => caught);
    expect(ValidationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('Invalid refund() options: (input): could not be read (TypeError: boom)');
  });

  it('a provider that fails unexpectedly after sending gives an ambiguous ClawbackError, not a raw one', async () => {
    const provider = { specificationVersion: 'v1', provider: 'affixo', doRefund: async () => Promise.reject(new TypeError('cannot read properties of undefined')) } as const;
    const error = await refund({ provider, conversionId: 'order_1' } as never).catch((caught: unknown) => caught);
    expect(ClawbackError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ ambiguous: true, retryable: false, provider: 'affixo' });
    expect((error as Error).message).toMatch(/^clawback failed unexpectedly \(TypeError: cannot read properties of undefined\)/);
  });
});
