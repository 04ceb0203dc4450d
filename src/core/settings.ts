import * as z from 'zod/mini';
import { ValidationError } from './errors.js';
import { createTransport, type FetchFunction, type Transport, type VendorErrorInfo } from './http.js';
import type { RateLimit } from './rate-limiter.js';
import { expected, maxRetriesSchema, nonEmptyString, optional, parseInput, strictObject, timeoutSchema } from './validation.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

/** Settings every `createX()` factory takes. */
export interface ProviderSettings {
  /** Defaults to the vendor's environment variable (`AFFIXO_API_KEY`, …). Never logged. */
  apiKey?: string;
  /** Vendor origin by default; may carry a path prefix (a proxy, a local emulator). */
  baseURL?: string;
  /** A Fetch API implementation; defaults to the global `fetch`. */
  fetch?: FetchFunction;
  /** Per-attempt timeout in milliseconds. Default 30 000. */
  timeout?: number;
  /** Retries after failures that are safe to retry. Default 2. */
  maxRetries?: number;
  /** Overall limit per call in milliseconds, attempts and waits together. Default: none. */
  totalTimeout?: number;
  /**
   * Client-side rate limit shared by every call on this provider: `false` to turn it off, or
   * `{ limit, interval }` (requests per milliseconds), or several. Defaults to the vendor's
   * documented limit: Affixo 600/min, Affonso by `plan`, FirstPromoter 400/min; RefCampaign
   * documents none, so none.
   */
  rateLimit?: false | RateLimit | readonly RateLimit[];
  /** Extra headers on every request. `Authorization`, `Content-Type`, `Accept` (and FirstPromoter's `Account-ID`) are clawback's. */
  headers?: Record<string, string>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_RETRIES = 2;

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\0\r\n]*$/;

const baseURLSchema = z.pipe(
  z.string({ error: expected('a URL string such as "https://api.example.com"') }),
  z.transform((value, ctx) => {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      ctx.issues.push({ code: 'custom', input: value, message: 'must be an absolute http(s) URL' });
    } else if (url.search || url.hash) {
      ctx.issues.push({ code: 'custom', input: value, message: 'must not contain a query string or fragment' });
    } else if (url.username || url.password) {
      ctx.issues.push({ code: 'custom', input: value, message: 'must not contain credentials; use apiKey' });
    }
    return value;
  }),
);

const headersSchema = z.record(
  z.string().check(z.regex(HEADER_NAME, 'is not a valid HTTP header name')),
  z.string({ error: expected('a string header value') }).check(
    z.regex(HEADER_VALUE, 'must not contain line breaks or NUL characters'),
  ),
  { error: expected('an object of header names to string values') },
);

const positiveInt = (what: string) =>
  z.int({ error: expected(what) }).check(z.refine((value) => value > 0, 'must be greater than zero'));
const rateLimitSchema = strictObject(
  { limit: positiveInt('a whole number of requests'), interval: positiveInt('a whole number of milliseconds') },
  { error: expected('{ limit, interval }, e.g. { limit: 600, interval: 60_000 }') },
);

export const providerSettingsShape = {
  apiKey: optional(nonEmptyString('a non-empty string')),
  baseURL: optional(baseURLSchema),
  fetch: optional(z.custom<FetchFunction>((value) => typeof value === 'function', { error: expected('a function') })),
  timeout: optional(timeoutSchema),
  maxRetries: optional(maxRetriesSchema),
  totalTimeout: optional(timeoutSchema),
  rateLimit: optional(z.union([z.literal(false), rateLimitSchema, z.array(rateLimitSchema)], {
    error: expected('false, { limit, interval } or a list of them'),
  })),
  headers: optional(headersSchema),
};

/** `process.env[name]` where there is a `process` (not in edge runtimes or browsers). */
export function readEnv(name: string): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  return value === undefined || value.trim() === '' ? undefined : value;
}

/** The explicit setting, else the environment variable, else a `ValidationError` saying how to provide it. */
export function requireSetting(
  value: string | undefined,
  setting: string,
  envName: string,
  factory: string,
  provider: ProviderName,
): string {
  const resolved = value ?? readEnv(envName);
  const source = value === undefined ? `the ${envName} environment variable` : `the ${setting} setting`;
  let problem: string | undefined;
  if (resolved === undefined) {
    problem = `is missing: pass ${setting} to ${factory}() or set the ${envName} environment variable`;
  } else if (!/^[\x21-\x7e]+$/.test(resolved)) {
    // Usually a trailing newline from a secrets file. The value itself is never echoed.
    problem = `must be printable ASCII without spaces or line breaks: check ${source}`;
  }
  if (problem === undefined) return resolved as string;
  throw new ValidationError([{ path: setting, message: problem }], { context: `${factory}() settings`, provider });
}

export interface ProviderDefinition {
  provider: ProviderName;
  vendor: string;
  factory: string;
  defaultBaseURL: string;
  apiKeyEnv: string;
  /** Settings beyond `ProviderSettings` (FirstPromoter's `accountId`). */
  extraSettings: z.core.$ZodLooseShape;
  /** Auth headers from the resolved key and settings; may throw `ValidationError` (e.g. a key that can never refund). */
  authenticate: (apiKey: string, settings: Readonly<Record<string, unknown>>) => Record<string, string>;
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
  let credentials: { apiKey: string; headers: Record<string, string> } | undefined;

  return createTransport({
    provider: definition.provider,
    vendor: definition.vendor,
    baseURL: parsed.baseURL ?? definition.defaultBaseURL,
    credentials: () => {
      if (!credentials) {
        const apiKey = requireSetting(parsed.apiKey, 'apiKey', definition.apiKeyEnv, definition.factory, definition.provider);
        credentials = { apiKey, headers: definition.authenticate(apiKey, parsed) };
      }
      return credentials;
    },
    headers: parsed.headers ?? {},
    fetch: parsed.fetch,
    timeout: parsed.timeout ?? DEFAULT_TIMEOUT_MS,
    maxRetries: parsed.maxRetries ?? DEFAULT_MAX_RETRIES,
    totalTimeout: parsed.totalTimeout,
    rateLimit:
      parsed.rateLimit === false
        ? []
        : parsed.rateLimit === undefined
          ? definition.defaultRateLimit(parsed)
          : ([] as RateLimit[]).concat(parsed.rateLimit),
    readError: definition.readError,
  });
}
