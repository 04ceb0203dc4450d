// What a new user met and found wanting, each fixed and held here: the emulator's result has what
// the guide says it has, a provider pointed at the emulator's root is told where to point, the
// loopback emulator needs no msw, misspelt options get a "did you mean", and the drop-ins say
// which variable they read for a key and what they got.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError, createAffixo, createAffonso, createFirstPromoter, createRefCampaign, refund } from '../src/index.js';
import { Affonso } from '../src/compat/affonso.js';
import { RefCampaignServer } from '../src/compat/refcampaign.js';
import { EMULATOR_API_KEYS, EMULATOR_FIRSTPROMOTER_ACCOUNT_ID, startEmulator, type RunningEmulator } from '../src/testing/index.js';

let running: RunningEmulator | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});
const caught = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
};

describe('startEmulator()', () => {
  it('has seed, idle, counts and webhookDeliveries, as the guide says', async () => {
    running = await startEmulator();
    running.seed({ affonso: [{ id: 'com_1', sale: { value: 1_000, currency: 'USD' } }] });
    await refund({ provider: running.providers.affonso, conversionId: 'com_1' });
    await running.idle();
    expect(running.counts.requests.affonso).toBe(1);
    expect(running.webhookDeliveries).toEqual([]);
  });

  it('a provider given the emulator\'s root as baseURL is told the URL to use, in each vendor\'s words', async () => {
    running = await startEmulator();
    const { url } = running;
    const settings = (vendor: keyof typeof EMULATOR_API_KEYS) => ({ apiKey: EMULATOR_API_KEYS[vendor], baseURL: url, maxRetries: 0, rateLimit: false as const });
    const calls = [
      ['affixo', refund({ provider: createAffixo(settings('affixo')), conversionId: 'order_1' })],
      ['affonso', refund({ provider: createAffonso(settings('affonso')), conversionId: 'com_1' })],
      ['refcampaign', refund({ provider: createRefCampaign(settings('refcampaign')), conversionId: 'order_1' })],
      [
        'firstpromoter',
        refund({
          provider: createFirstPromoter({ ...settings('firstpromoter'), accountId: EMULATOR_FIRSTPROMOTER_ACCOUNT_ID }),
          conversionId: 's',
          amount: { value: 100, currency: 'USD' },
          customer: { uid: 'u' },
        }),
      ],
    ] as const;
    for (const [vendor, call] of calls) {
      const error = await call.catch((failure: Error) => failure);
      expect(error, vendor).toMatchObject({ status: 404 });
      expect((error as Error).message, vendor).toContain(`set baseURL to ${url}/${vendor} (running.baseURLs.${vendor}), not ${url}`);
    }
  });
});

describe('clawback/testing without msw', () => {
  it('pulls no msw into the loopback emulator (only clawback/testing/msw needs it)', async () => {
    const entry = (path: string) =>
      build({ entryPoints: [fileURLToPath(new URL(path, import.meta.url))], bundle: true, platform: 'node', format: 'esm', write: false, metafile: true, logLevel: 'silent', external: ['ky', 'zod', '@noble/hashes'] });
    const testing = await entry('../src/testing/index.ts');
    expect(Object.keys(testing.metafile.inputs).filter((input) => input.includes('node_modules/msw'))).toEqual([]);
    const handlers = await entry('../src/testing/msw.ts');
    expect(Object.keys(handlers.metafile.inputs).some((input) => input.includes('node_modules/msw'))).toBe(true);
  });
});

describe('"did you mean" for a misspelt option, wherever the compiler gives one', () => {
  const affonso = createAffonso({ apiKey: 'sk_live_newcomer_0001' });
  it.each([
    ['ammount', { ammount: { value: 100, currency: 'USD' } }, 'amount'],
    ['custmer', { custmer: { email: 'a@b.co' } }, 'customer'],
    ['idempotency_key', { idempotency_key: 'k' }, 'idempotencyKey'],
    ['conversionid', { conversionid: 'x' }, 'conversionId'],
    ['refundedat', { refundedAt: undefined, refundedat: '2026-01-01T00:00:00Z' }, 'refundedAt'],
  ])('refund({ %s }) suggests the option meant', async (name, extra, meant) => {
    const error = (await refund({ provider: affonso, conversionId: 'com_1', ...extra } as never).catch((failure: ValidationError) => failure)) as ValidationError;
    expect(error.issues).toContainEqual({ path: name, message: `is not a known option (did you mean "${meant}"?)` });
  });

  it('in provider settings too, and not for a key like none', () => {
    expect(caught(() => createAffonso({ apikey: 'k' } as never)).message).toContain('apikey: is not a known option (did you mean "apiKey"?)');
    expect(caught(() => createAffonso({ timout: 100 } as never)).message).toContain('timout: is not a known option (did you mean "timeout"?)');
    expect(caught(() => createAffonso({ colour: 'red' } as never)).message).toMatch(/colour: is not a known option$/);
  });
});

describe('the drop-ins\' key errors name the variable they read and what they got (never the key)', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('RefCampaignServer: undefined, with REFCAMPAIGN_API_KEY unset, set to the wrong kind of key, or set right', () => {
    delete process.env.REFCAMPAIGN_API_KEY;
    expect(caught(() => new RefCampaignServer(process.env.REFCAMPAIGN_API_KEY)).message).toBe(
      'Invalid RefCampaignServer options: secretKey: must be a RefCampaign secret key, starting with rc_live_ or rc_test_; got undefined, and REFCAMPAIGN_API_KEY (read instead) is not set',
    );
    process.env.REFCAMPAIGN_API_KEY = 'sk_live_not_refcampaign_0001';
    const wrong = caught(() => new RefCampaignServer(undefined));
    expect(wrong.message).toBe(
      'Invalid RefCampaignServer options: secretKey: must be a RefCampaign secret key, starting with rc_live_ or rc_test_; got undefined, and REFCAMPAIGN_API_KEY (read instead) holds a key starting sk_live_…',
    );
    expect(wrong.message).not.toContain('not_refcampaign');
    expect(caught(() => new RefCampaignServer('pk_test_123456')).message).toMatch(/got a key starting pk_test_…$/);
    process.env.REFCAMPAIGN_API_KEY = 'rc_test_newcomer_0001';
    expect(new RefCampaignServer(undefined)).toBeInstanceOf(RefCampaignServer);
  });

  it('Affonso: undefined, with AFFONSO_API_KEY unset', () => {
    delete process.env.AFFONSO_API_KEY;
    expect(caught(() => new Affonso(process.env.AFFONSO_API_KEY)).message).toBe(
      'Invalid Affonso options: apiKey: must be your Affonso API key (new Affonso(apiKey, options)); got undefined, and AFFONSO_API_KEY (read instead) is not set',
    );
  });
});
