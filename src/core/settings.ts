import * as z from 'zod/mini';
import { ValidationError } from './errors.js';
import { requireSetting } from './credentials.js';
import { createTransport, type Credentials, type FetchFunction, type Transport, type VendorErrorInfo } from './transport.js';
import type { Logger, ObservabilitySettings } from './hooks.js';
import { LEDGER_RULES, LEDGER_TOTAL_TIMEOUT_MS, type RefundLedger } from './ledger.js';
import type { RateLimit, RateLimitStore } from './rate-limiter.js';
import { expected, functionSchema, headersSchema, integer, maxRetriesSchema, nonEmptyString, optional, parseInput, strictObject, timeoutSchema } from './validation.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

/**
 * A ky instance: `ky`, or one made by `ky.create()` or `.extend()`. Declared by shape rather than
 * as ky's `KyInstance`, because ky ships ESM only and a CommonJS TypeScript project cannot import
 * its declarations; any ky 2 instance fits.
 */
export interface KyInstanceLike {
  /** ky's `extend`: clawback extends your instance with its own options, keeping your hooks. */
  extend(options: (parentOptions: any) => any): unknown;
}

/** Settings every `createX()` factory takes. */
export interface ProviderSettings extends ObservabilitySettings {
  /** Defaults to the vendor's environment variable (`AFFIXO_API_KEY`, …). Never logged. */
  apiKey?: string;
  /** Vendor origin by default; may carry a path prefix (a proxy, a local emulator). */
  baseURL?: string;
  /** A Fetch API implementation; defaults to the global `fetch`. */
  fetch?: FetchFunction;
  /**
   * Your own ky instance (`ky.create({ hooks })`), for its hooks (tracing, logging) and its
   * `fetch` (a proxy agent). clawback extends it: your hooks run on every attempt, and
   * clawback's retries, timeouts, redirects and credentials stay in force.
   */
  ky?: KyInstanceLike;
  /** Per-attempt timeout in milliseconds. Default 30 000. */
  timeout?: number;
  /** Retries after failures that are safe to retry. Default 2. */
  maxRetries?: number;
  /** Overall limit per call in milliseconds, attempts and waits together. Default: none (120 000 with a `ledger`). */
  totalTimeout?: number;
  /**
   * Client-side rate limit shared by every call on this provider: `false` to turn it off, or
   * `{ limit, interval }` (requests per milliseconds), or several. Defaults to the vendor's
   * documented limit: Affixo 600/min, Affonso by `plan`, FirstPromoter 400/min; RefCampaign
   * documents none, so none.
   */
  rateLimit?: false | RateLimit | readonly RateLimit[];
  /**
   * A refund ledger every process of your fleet shares (`redisLedger`, `postgresLedger`, or
   * `memoryLedger()` for one process): `refund()` claims each refund's key in it before sending,
   * so a refund delivered to several instances at once, or again later, is sent once. With one,
   * `totalTimeout` defaults to 120 000.
   */
  ledger?: RefundLedger;
  /**
   * Where the rate budget lives (`redisRateLimitStore` from `clawback/redis`): then `rateLimit`
   * holds across every process sharing it, per API key (per account for FirstPromoter). When the
   * store cannot be reached, this process's own limiter takes over, with a warning to `logger`.
   */
  rateLimitStore?: RateLimitStore;
  /**
   * Extra headers on every request (a call's own `headers` add to them). `Authorization`,
   * `Content-Type`, `Accept` (and FirstPromoter's `Account-ID`) are clawback's; a `User-Agent`
   * is sent with `clawback/<version>` appended.
   */
  headers?: Record<string, string>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;

const baseURLSchema = z.string({ error: expected('a URL string such as "https://api.example.com"') }).check((ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(ctx.value);
  } catch {
    url = undefined;
  }
  const problem =
    !url || (url.protocol !== 'http:' && url.protocol !== 'https:')
      ? 'must be an absolute http(s) URL'
      : url.search || url.hash
        ? 'must not contain a query string or fragment'
        : url.username || url.password
          ? 'must not contain credentials; use apiKey'
          : undefined;
  if (problem) ctx.issues.push({ code: 'custom', input: ctx.value, message: problem });
});

const positiveInt = (what: string) =>
  integer(expected(what)).check(z.refine((value) => value > 0, 'must be greater than zero'));
const rateLimitSchema = strictObject(
  { limit: positiveInt('a whole number of requests'), interval: positiveInt('a whole number of milliseconds') },
  { error: expected('{ limit, interval }, e.g. { limit: 600, interval: 60_000 }') },
);

/** `false`, one limit, or a list; each checked on its own, so an issue names its place (`rateLimit.1.limit`). */
const rateLimitSettingSchema = z.custom<false | RateLimit | readonly RateLimit[]>().check((ctx) => {
  const value: unknown = ctx.value;
  if (value === false) return;
  if (typeof value !== 'object' || value === null) {
    ctx.issues.push({ code: 'custom', input: value, message: expected('false, { limit, interval } or a list of them')({ input: value }) });
    return;
  }
  const list: unknown[] = Array.isArray(value) ? value : [value];
  list.forEach((item, index) => {
    const result = rateLimitSchema.safeParse(item);
    for (const issue of result.error?.issues ?? []) {
      ctx.issues.push({ ...issue, input: item, path: Array.isArray(value) ? [index, ...issue.path] : issue.path } as never);
    }
  });
});

const hasMethods = (value: unknown, names: readonly string[]) =>
  typeof value === 'object' && value !== null && names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function');

export const providerSettingsShape = {
  apiKey: optional(nonEmptyString('a non-empty string')),
  baseURL: optional(baseURLSchema),
  fetch: optional(functionSchema<FetchFunction>()),
  ky: optional(
    z.custom<KyInstanceLike>((value) => typeof value === 'function' && typeof (value as Partial<KyInstanceLike>).extend === 'function', {
      error: expected('a ky instance (ky, or ky.create(…))'),
    }),
  ),
  timeout: optional(timeoutSchema),
  maxRetries: optional(maxRetriesSchema),
  totalTimeout: optional(timeoutSchema),
  rateLimit: optional(rateLimitSettingSchema),
  headers: optional(headersSchema),
  logger: optional(
    z.custom<Logger>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        ['debug', 'warn'].every((level) => ['function', 'undefined'].includes(typeof (value as Record<string, unknown>)[level])),
      { error: expected('a logger with debug and warn methods, such as console') },
    ),
  ),
  onRequest: optional(functionSchema<ObservabilitySettings['onRequest']>()),
  onResponse: optional(functionSchema<ObservabilitySettings['onResponse']>()),
  ledger: optional(
    z.custom<RefundLedger>((value) => hasMethods(value, ['claim', 'record', 'get', 'list', 'resolve']) && typeof (value as RefundLedger)[LEDGER_RULES] === 'function', {
      error: expected('a refund ledger: memoryLedger(), redisLedger(redis), postgresLedger(pool), or defineLedger(yourStore)'),
    }),
  ),
  rateLimitStore: optional(
    z.custom<RateLimitStore>((value) => hasMethods(value, ['take', 'complete']), {
      error: expected('a rate limit store (redisRateLimitStore(redis))'),
    }),
  ),
};

/**
 * Refuses a `baseURL` that already ends in the start of the vendor's paths (`…/v1` for Affonso,
 * as `@affonso/sdk`'s `baseUrl` does): the request would go to `/v1/v1/…` and read as a
 * confusing 404. The message gives the `baseURL` to write instead.
 */
function refuseDoubledPrefix(definition: ProviderDefinition, baseURL: string): void {
  const url = new URL(baseURL);
  const path = url.pathname.replace(/\/+$/, '');
  const prefix = definition.pathPrefixes.find((candidate) => path.toLowerCase().endsWith(`/${candidate}`));
  if (!prefix) return;
  url.pathname = path.slice(0, path.length - prefix.length - 1) || '/';
  const instead = url.href.replace(/\/$/, '');
  throw new ValidationError(
    [
      {
        path: 'baseURL',
        message: `ends with /${prefix}, which clawback adds itself (${definition.vendor}'s refund path starts with it), so requests would go to …/${prefix}/${prefix}/…: pass "${instead}" instead`,
      },
    ],
    { context: `Invalid ${definition.factory}() settings`, provider: definition.provider },
  );
}

export interface ProviderDefinition {
  provider: ProviderName;
  vendor: string;
  factory: string;
  defaultBaseURL: string;
  /**
   * The leading segments of the vendor's paths that clawback adds to `baseURL` itself (`v1` for
   * Affonso): a `baseURL` ending in one is refused, since the path would then hold it twice.
   */
  pathPrefixes: readonly string[];
  apiKeyEnv: string;
  /** Settings beyond `ProviderSettings` (FirstPromoter's `accountId`). */
  extraSettings: z.core.$ZodLooseShape;
  /** Auth headers from the resolved key and settings; may throw `ValidationError` (e.g. a key that can never refund). */
  authenticate: (apiKey: string, settings: Readonly<Record<string, unknown>>) => Record<string, string>;
  /** A request signer from the settings, resolved with the key (Affonso's signing secret); none by default. */
  signer?: (settings: Readonly<Record<string, unknown>>) => { secret: string; sign: (body: string) => Promise<Record<string, string>> } | undefined;
  /**
   * What the vendor counts its rate limit by, from the auth headers (a shared `rateLimitStore`
   * keys the budget by a fingerprint of it): the API key by default.
   */
  rateLimitUnit?: (headers: Record<string, string>) => string;
  /** The vendor's documented limits, used unless `rateLimit` says otherwise. */
  defaultRateLimit: (settings: Readonly<Record<string, unknown>>) => readonly RateLimit[];
  readError: (body: unknown) => VendorErrorInfo;
}

/**
 * Validates a factory's settings and builds its transport. The API key is resolved on the
 * first call, not here, so a provider can be created before its environment is loaded; the
 * resolved key lives only in this closure.
 */
export function createProviderTransport(definition: ProviderDefinition, settings: unknown): Transport {
  const schema = strictObject({ ...providerSettingsShape, ...definition.extraSettings }, {
    error: expected('a settings object'),
  });
  const parsed = parseInput(schema, settings ?? {}, `Invalid ${definition.factory}() settings`, definition.provider) as
    ProviderSettings & Record<string, unknown>;
  if (parsed.baseURL !== undefined) refuseDoubledPrefix(definition, parsed.baseURL);
  let credentials: Credentials | undefined;

  return createTransport({
    provider: definition.provider,
    vendor: definition.vendor,
    baseURL: parsed.baseURL ?? definition.defaultBaseURL,
    credentials: () => {
      if (!credentials) {
        const apiKey = requireSetting(parsed.apiKey, 'apiKey', definition.apiKeyEnv, definition.factory, definition.provider);
        const signer = definition.signer?.(parsed);
        credentials = {
          headers: definition.authenticate(apiKey, parsed),
          secrets: signer ? [apiKey, signer.secret] : [apiKey],
          sign: signer?.sign,
        };
      }
      return credentials;
    },
    headers: parsed.headers ?? {},
    fetch: parsed.fetch,
    ky: parsed.ky,
    timeout: parsed.timeout ?? DEFAULT_TIMEOUT_MS,
    maxRetries: parsed.maxRetries ?? DEFAULT_MAX_RETRIES,
    totalTimeout: parsed.totalTimeout ?? (parsed.ledger ? LEDGER_TOTAL_TIMEOUT_MS : undefined),
    ledger: parsed.ledger,
    rateLimitStore: parsed.rateLimitStore,
    rateLimitUnit: definition.rateLimitUnit ?? ((headers) => headers.authorization ?? ''),
    rateLimit:
      parsed.rateLimit === false
        ? []
        : parsed.rateLimit === undefined
          ? definition.defaultRateLimit(parsed)
          : ([] as RateLimit[]).concat(parsed.rateLimit),
    readError: definition.readError,
    observe: { logger: parsed.logger, onRequest: parsed.onRequest, onResponse: parsed.onResponse },
  });
}
