import { createAffixo, type AffixoProvider } from '../providers/affixo/affixo-provider.js';
import { createAffonso, type AffonsoProvider } from '../providers/affonso/affonso-provider.js';
import { createFirstPromoter, type FirstPromoterProvider } from '../providers/firstpromoter/firstpromoter-provider.js';
import { createRefCampaign, type RefCampaignProvider } from '../providers/refcampaign/refcampaign-provider.js';
import { hmacSha256 } from '../core/hmac.js';
import type { RateLimit } from '../core/rate-limiter.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';
import { FaultQueue, type Fault } from './faults.js';
import { Ledger, type ConversionSeed } from './ledger.js';
import { FixedWindowLimiter } from './rate-limit.js';
import { affixoRefund } from './vendors/affixo.js';
import { affonsoConversionId, affonsoRefund } from './vendors/affonso.js';
import { firstPromoterRefund } from './vendors/firstpromoter.js';
import { refCampaignRefund } from './vendors/refcampaign.js';
import type { AffixoScope, EmulatorCounts, Reply, VendorContext } from './vendors/shared.js';
import { deliverRefundWebhook, type EmulatorWebhooks, type WebhookDelivery } from './webhooks.js';

/** The keys the emulator accepts unless told otherwise. */
export const EMULATOR_API_KEYS = {
  affixo: 'sa_test_clawback_emulator',
  affonso: 'sk_test_clawback_emulator',
  refcampaign: 'rc_test_clawback_emulator',
  firstpromoter: 'fp_test_clawback_emulator',
} as const satisfies Record<ProviderName, string>;

export const EMULATOR_FIRSTPROMOTER_ACCOUNT_ID = 'acc_clawback_emulator';

export type ConversionSeeds = Partial<Record<ProviderName, readonly ConversionSeed[]>>;

export interface EmulatorOptions {
  /** Conversions to start with, per vendor. */
  seed?: ConversionSeeds;
  /** Keys each vendor accepts (default: `EMULATOR_API_KEYS`). Affixo keys may carry scopes (default `*`). */
  apiKeys?: {
    affixo?: ReadonlyArray<string | { key: string; scopes: readonly AffixoScope[] }>;
    affonso?: readonly string[];
    refcampaign?: readonly string[];
    firstpromoter?: readonly string[];
  };
  /** FirstPromoter's expected `Account-ID` (default `EMULATOR_FIRSTPROMOTER_ACCOUNT_ID`). */
  firstPromoterAccountId?: string;
  /**
   * Affonso's signing secret: when set, every Affonso refund must carry a valid, fresh
   * `X-Affonso-Signature` (401 otherwise), and `providers()` sign with it. Default: none.
   */
  affonsoSigningSecret?: string;
  /**
   * Per vendor: requests per minute, `{ limit, interval }` or a list of them, or `false` for
   * none. Defaults are the documented ones: Affixo 600/min per key, Affonso 300/min and 10/s
   * per key (the first plan), FirstPromoter 400/min per account; RefCampaign documents none,
   * 600/min here.
   */
  rateLimits?: Partial<Record<ProviderName, EmulatorRateLimit>>;
  /**
   * Send signed webhooks for the refunds applied, as RefCampaign (`conversion.refunded`) and
   * Affonso (`transaction.rejected` / `transaction.updated`) do, to `url`: for testing a
   * receiver end to end with `verifyWebhook`. Default: none.
   */
  webhooks?: EmulatorWebhooks;
}

/** Requests per minute, or explicit fixed windows (`limit` per `interval` ms), or `false` for no limit. */
export type EmulatorRateLimit = number | false | RateLimit | readonly RateLimit[];

/** A reply body on the wire: JSON, a string or bytes as they are, or nothing. */
export function encodeBody(body: unknown): { bytes: Uint8Array | null; contentType: string | undefined } {
  if (body === undefined) return { bytes: null, contentType: undefined };
  if (body instanceof Uint8Array) return { bytes: body, contentType: 'application/octet-stream' };
  if (typeof body === 'string') return { bytes: new TextEncoder().encode(body), contentType: 'text/plain; charset=utf-8' };
  return { bytes: new TextEncoder().encode(JSON.stringify(body)), contentType: 'application/json' };
}

/** How the emulator answers one request: a reply, or a dropped connection (a fault). */
export type EmulatorOutcome = Reply | { reset: true };

export interface EmulatorProviders {
  affixo: AffixoProvider;
  affonso: AffonsoProvider;
  refcampaign: RefCampaignProvider;
  firstpromoter: FirstPromoterProvider;
}

export interface Emulator {
  /** Every conversion and every refund applied: the judge of "refunded exactly once". */
  readonly ledger: Ledger;
  /** Adds conversions. */
  seed(seeds: ConversionSeeds): void;
  /** Makes the next matching request(s) fail: delay, reset the connection, or force a status. */
  inject(fault: Fault): void;
  /** Answers one request to `provider`'s refund endpoint. */
  handle(provider: ProviderName, request: Request): Promise<EmulatorOutcome>;
  /**
   * Providers set up with the emulator's keys. Without `baseURLs` they call the vendors'
   * real origins (for msw); `startEmulator()` passes its loopback URLs.
   */
  providers(baseURLs?: Partial<Record<ProviderName, string>>): EmulatorProviders;
  /** Forgets conversions, refunds, pending faults and rate-limit windows. */
  reset(): void;
  /** Resolves when no request is being handled (a delayed answer can outlive the client that gave up on it). */
  idle(): Promise<void>;
  /** Per vendor: requests answered, and those refused by the emulator's own rate limit (injected faults not counted). */
  readonly counts: EmulatorCounts;
  /** Webhooks sent (with `webhooks` set), in order, with the receiver's status; `idle()` waits for them. */
  readonly webhookDeliveries: readonly WebhookDelivery[];
}

const MINUTE = 60_000;

const handlers: Record<ProviderName, (context: VendorContext, request: Request) => Promise<Reply>> = {
  affixo: affixoRefund,
  affonso: affonsoRefund,
  refcampaign: refCampaignRefund,
  firstpromoter: firstPromoterRefund,
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The conversion a request is about, read from a copy so the vendor emulation can still read the body. */
async function conversionIdOf(provider: ProviderName, request: Request): Promise<string | undefined> {
  if (provider === 'affonso') return affonsoConversionId(request);
  const field = { affixo: 'external_id', refcampaign: 'externalId', firstpromoter: 'sale_event_id' }[provider];
  try {
    const value = (JSON.parse(await request.clone().text()) as Record<string, unknown>)[field];
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

const defaultRateLimits: Record<ProviderName, EmulatorRateLimit> = {
  affixo: 600,
  affonso: [
    { limit: 300, interval: MINUTE },
    { limit: 10, interval: 1_000 },
  ],
  refcampaign: 600,
  firstpromoter: 400,
};

function limiters(options: EmulatorOptions['rateLimits'] = {}): Record<ProviderName, FixedWindowLimiter[]> {
  const build = (provider: ProviderName): FixedWindowLimiter[] => {
    const setting = options[provider] ?? defaultRateLimits[provider];
    if (setting === false) return [];
    const windows: readonly RateLimit[] =
      typeof setting === 'number' ? [{ limit: setting, interval: MINUTE }] : ([] as RateLimit[]).concat(setting);
    return windows.map((window) => new FixedWindowLimiter(window.limit, window.interval));
  };
  return { affixo: build('affixo'), affonso: build('affonso'), refcampaign: build('refcampaign'), firstpromoter: build('firstpromoter') };
}

/** A stateful stand-in for the four vendors' refund APIs. Serve it with `startEmulator()`, or mount it with `emulatorHandlers()` from `clawback/testing/msw`. */
export function createEmulator(options: EmulatorOptions = {}): Emulator {
  const webhookDeliveries: WebhookDelivery[] = [];
  /** Requests being answered and webhooks being sent: what `idle()` waits for. */
  const inFlight = new Set<Promise<unknown>>();
  const track = (pending: Promise<unknown>) => {
    inFlight.add(pending);
    void pending.finally(() => inFlight.delete(pending)).catch(() => undefined);
  };
  const webhooks = options.webhooks;
  const ledger = new Ledger(
    webhooks &&
      ((refund, conversion) => {
        track(deliverRefundWebhook(webhooks, refund, conversion, webhookDeliveries));
      }),
  );
  const faults = new FaultQueue();
  const keys = options.apiKeys ?? {};
  const accountId = options.firstPromoterAccountId ?? EMULATOR_FIRSTPROMOTER_ACCOUNT_ID;
  let requestCount = 0;
  const perVendor = () => ({ affixo: 0, affonso: 0, refcampaign: 0, firstpromoter: 0 });
  const counts: EmulatorCounts = { requests: perVendor(), rateLimited: perVendor() };
  const context: VendorContext = {
    counts,
    ledger,
    keys: {
      affixo: new Map(
        (keys.affixo ?? [EMULATOR_API_KEYS.affixo]).map((entry) =>
          typeof entry === 'string' ? [entry, ['*'] as const] : [entry.key, entry.scopes],
        ),
      ),
      affonso: new Set(keys.affonso ?? [EMULATOR_API_KEYS.affonso]),
      refcampaign: new Set(keys.refcampaign ?? [EMULATOR_API_KEYS.refcampaign]),
      firstpromoter: new Set(keys.firstpromoter ?? [EMULATOR_API_KEYS.firstpromoter]),
    },
    firstPromoterAccountId: accountId,
    affonsoSignature: options.affonsoSigningSecret === undefined ? undefined : hmacSha256(options.affonsoSigningSecret),
    limiters: limiters(options.rateLimits),
    nextRequestId: () => `req_emulator_${(requestCount += 1)}`,
  };

  const seed = (seeds: ConversionSeeds) => {
    for (const [provider, list] of Object.entries(seeds) as Array<[ProviderName, readonly ConversionSeed[]]>) {
      ledger.seed(provider, list);
    }
  };
  if (options.seed) seed(options.seed);

  const faultReply = (fault: Fault): EmulatorOutcome =>
    fault.reset ? { reset: true } : wire(fault, { status: fault.status ?? 500, body: fault.body, headers: fault.headers ?? {} });
  /** The fault's changes to how the answer travels: compressed, trickling. */
  const wire = (fault: Fault | undefined, reply: Reply): Reply => ({
    ...reply,
    ...(fault?.compress ? { compress: fault.compress } : {}),
    ...(fault?.trickle ? { trickle: fault.trickle } : {}),
  });
  /** Whether the fault replaces the vendor's answer (rather than only delaying or re-labelling it). */
  const failsNow = (fault: Fault): boolean => fault.reset === true || fault.status !== undefined;

  async function answer(provider: ProviderName, request: Request): Promise<EmulatorOutcome> {
    counts.requests[provider] += 1;
    const conversionId = faults.wantsConversionId(provider) ? await conversionIdOf(provider, request) : undefined;
    const fault = faults.take(provider, conversionId);
    if (fault && !fault.afterApply) {
      if (fault.delay) await sleep(fault.delay);
      if (failsNow(fault)) return faultReply(fault);
    }
    const reply = await handlers[provider](context, request);
    if (fault?.afterApply) {
      if (fault.delay) await sleep(fault.delay);
      if (failsNow(fault)) return faultReply(fault);
    }
    // Headers alone alter the real answer (a proxy rewriting Content-Type, say).
    return wire(fault, fault?.headers ? { ...reply, headers: { ...reply.headers, ...fault.headers } } : reply);
  }

  return {
    ledger,
    counts,
    webhookDeliveries,
    seed,
    inject: (fault) => faults.add(fault),
    handle(provider, request) {
      const pending = answer(provider, request);
      track(pending);
      return pending;
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    providers(baseURLs = {}) {
      // The first key each vendor accepts, with the emulator's base URL when mounted on loopback.
      const settings = (provider: ProviderName) => {
        const apiKey = [...(provider === 'affixo' ? context.keys.affixo.keys() : context.keys[provider])][0];
        return { ...(apiKey ? { apiKey } : {}), ...(baseURLs[provider] ? { baseURL: baseURLs[provider] } : {}) };
      };
      return {
        affixo: createAffixo(settings('affixo')),
        affonso: createAffonso({ ...settings('affonso'), ...(options.affonsoSigningSecret ? { signingSecret: options.affonsoSigningSecret } : {}) }),
        refcampaign: createRefCampaign(settings('refcampaign')),
        firstpromoter: createFirstPromoter({ ...settings('firstpromoter'), accountId }),
      };
    },
    reset() {
      ledger.clear();
      webhookDeliveries.length = 0;
      faults.clear();
      for (const list of Object.values(context.limiters)) for (const limiter of list) limiter.clear();
      for (const tally of [counts.requests, counts.rateLimited]) for (const name of Object.keys(tally)) tally[name as ProviderName] = 0;
    },
  };
}
