import * as z from './schema.js';
import { ValidationError, type ValidationIssue } from './errors.js';
import { currencyExponent } from './money.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

type Schema<T> = z.Schema<T, unknown>;

/** Unknown keys are refused. */
export const strictObject = z.strictObject;

/** Unknown keys are kept (a vendor's new fields survive). */
export const looseObject = z.looseObject;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return String(value);
  return typeof value;
}

function closestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  return known.find((candidate) => candidate.toLowerCase() === lower);
}

function toIssues(schemaIssues: readonly z.Issue[], knownKeysAt: (path: string) => readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const issue of schemaIssues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys ?? []) {
        const suggestion = closestKey(key, knownKeysAt(path));
        issues.push({
          path: path ? `${path}.${key}` : key,
          message: suggestion ? `is not a known option (did you mean "${suggestion}"?)` : 'is not a known option',
        });
      }
    } else {
      issues.push({ path: path || '(input)', message: issue.message });
    }
  }
  return issues;
}

function shapeKeys(schema: unknown, path: string): readonly string[] {
  let current = schema as { def?: { shape?: Record<string, unknown>; innerType?: unknown } } | undefined;
  for (const segment of path ? path.split('.') : []) {
    while (current?.def?.innerType) current = current.def.innerType as typeof current;
    current = current?.def?.shape?.[segment] as typeof current;
  }
  while (current?.def?.innerType) current = current.def.innerType as typeof current;
  return Object.keys(current?.def?.shape ?? {});
}

/**
 * Parses `value` with `schema`, or throws a `ValidationError` naming every bad field.
 * `context` starts the message ("Invalid refund() options").
 */
export function parseInput<T>(
  schema: Schema<T>,
  value: unknown,
  context: string,
  provider?: ProviderName,
): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(
    toIssues(result.error.issues, (path) => shapeKeys(schema, path)),
    { context, provider },
  );
}

/**
 * Validates one field inside a larger input, appending its problems to `issues` under `path`
 * (for adapters that check several things before throwing once). Returns the parsed value.
 */
export function validateField<T>(schema: Schema<T>, value: unknown, path: string, issues: ValidationIssue[]): T | undefined {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  for (const issue of toIssues(result.error.issues, (inner) => shapeKeys(schema, inner))) {
    issues.push({ path: issue.path === '(input)' ? path : `${path}.${issue.path}`, message: issue.message });
  }
  return undefined;
}

/** A vendor-response issue in words: "expected string", "expected true", not a bare "Invalid input". */
export function describeSchemaIssue(issue: z.Issue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  return issue.message;
}

/**
 * Validates a native call's body and its last `{ signal, timeout, maxRetries }` argument,
 * naming the call in the error ("Invalid affixo.track.refund() body"). The body returned is
 * the caller's own object, sent verbatim: a schema's output would reorder its keys. (The
 * native body schemas only check; none transforms.)
 */
export function parseNativeCall<T>(
  call: string,
  provider: ProviderName,
  bodySchema: Schema<T>,
  body: unknown,
  options: unknown,
): { body: T; options: z.output<typeof callOptionsSchema> } {
  parseInput(bodySchema, body, `Invalid ${call} body`, provider);
  return {
    body: body as T,
    options: options === undefined ? {} : parseInput(callOptionsSchema, options, `Invalid ${call} options`, provider),
  };
}

/** Message helper: "is required" when absent, `expected` otherwise, naming what was received. */
export function expected(what: string) {
  return (issue: { input?: unknown }) =>
    issue.input === undefined ? 'is required' : `must be ${what}, got ${describe(issue.input)}`;
}

export const nonEmptyString = (what = 'a non-empty string') =>
  z.string({ error: expected(what) }).check(
    z.refine((value) => value.trim().length > 0, 'must not be empty or blank'),
  );

/** May be left out or set to `undefined` (e.g. `apiKey: process.env.KEY`, unset). */
export const optional = <T extends z.Schema>(schema: T) => z.optional(schema);

/**
 * May be left out, but not set to `undefined`: for amounts, where leaving one out means "refund
 * everything" and an `undefined` is usually a lost value rather than that intent.
 */
export const omittable = <T extends z.Schema>(schema: T) => z.exactOptional(schema);

const MAX_TIMEOUT = 2_147_483_647;

type Message = string | ((issue: { input?: unknown }) => string);

// Rules zod has a schema type for (int, regex, iso.datetime, literal, union, record), written
// as refinements on the few types ./schema.ts has; normalising (upper-casing a currency, a date
// to UTC ISO form) happens after parsing.

/** A safe integer (`z.int`). */
export const integer = (error: Message) => z.number({ error }).check(z.refine(Number.isSafeInteger, { error }));

/** A string matching `pattern` (`z.regex`). */
export const matches = (pattern: RegExp, message: string) => z.refine<string>((value) => pattern.test(value), message);

/** Exactly one of `values` (`z.literal`, or a union of them). */
export const oneOf = <const T extends readonly unknown[]>(values: T, error: Message) =>
  z.custom<T[number]>((value) => values.includes(value), { error });

const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)$/;

/**
 * An RFC 3339 / ISO 8601 date-time with a zone (`z.iso.datetime({ offset: true })`): "Z" or
 * an offset, seconds and fractions optional, and a day that exists (V8's `Date.parse` takes
 * February 30 and moves it to March).
 */
export function isIsoDateTime(value: string): boolean {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[^\0\r\n]*$/;

/** Extra request headers: valid names, string values without line breaks (`z.record`). */
export const headersSchema = z.custom<Record<string, string>>().check((ctx) => {
  const value: unknown = ctx.value;
  const problem = (message: string, path: string[] = []) => ctx.issues.push({ code: 'custom', input: value, path, message });
  if (!z.isPlainObject(value)) {
    problem(expected('an object of header names to string values')({ input: value }));
    return;
  }
  for (const [name, header] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) problem('is not a valid HTTP header name', [name]);
    else if (typeof header !== 'string') problem(expected('a string header value')({ input: header }), [name]);
    else if (!HEADER_VALUE.test(header)) problem('must not contain line breaks or NUL characters', [name]);
  }
});

export const timeoutSchema = integer(expected('a whole number of milliseconds')).check(
  z.refine((value) => value > 0 && value <= MAX_TIMEOUT, `must be between 1 and ${MAX_TIMEOUT} milliseconds`),
);

export const maxRetriesSchema = integer(expected('a whole number')).check(
  z.refine((value) => value >= 0 && value <= 10, 'must be between 0 and 10'),
);

const isAbortSignal = (value: unknown): value is AbortSignal =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as AbortSignal).aborted === 'boolean' &&
  typeof (value as AbortSignal).addEventListener === 'function';

/** A function (a `fetch`, a hook, a callback), typed as `T`. */
export const functionSchema = <T>() => z.custom<T>((value) => typeof value === 'function', { error: expected('a function') });

export const signalSchema = z.custom<AbortSignal>(isAbortSignal, { error: expected('an AbortSignal') });

/** The last argument of every native call and part of `refund()`'s options. */
export const callOptionsShape = {
  signal: optional(signalSchema),
  timeout: optional(timeoutSchema),
  maxRetries: optional(maxRetriesSchema),
  totalTimeout: optional(timeoutSchema),
  headers: optional(headersSchema),
};

export const callOptionsSchema = strictObject(callOptionsShape, { error: expected('an object') });

/** ISO 4217 code, any case (`refund()` upper-cases it after parsing). */
export const currencySchema = z.string({ error: expected('an ISO 4217 currency code such as "USD"') }).check(
  z.refine((value) => currencyExponent(value.toUpperCase()) !== undefined, {
    error: (issue) => `is not a known ISO 4217 currency code (got "${issue.input}")`,
  }),
);

export const moneySchema = strictObject(
  {
    value: integer(expected('a whole number of minor units (4950 = 49.50)')).check(
      z.refine((value) => value > 0, 'must be greater than zero (a number of minor units)'),
    ),
    currency: currencySchema,
  },
  {
    error: (issue) =>
      issue.input === undefined
        ? 'is undefined: omit the amount key entirely for a full refund, or pass { value, currency }'
        : `must be { value, currency } with value in minor units, got ${describe(issue.input)}`,
  },
);

/** An ISO 8601 date-time with a zone, or a valid Date (`refund()` turns it into UTC ISO form after parsing). */
const timestampMessage = 'must be a valid Date or an ISO 8601 date-time with a time zone, like "2026-06-22T16:10:00Z"';
const isTimestamp = (value: unknown): value is Date | string =>
  value instanceof Date ? !Number.isNaN(value.getTime()) : typeof value === 'string' && isIsoDateTime(value);
export const timestampSchema = z.custom<Date | string>(isTimestamp, timestampMessage);

export const idempotencyKeySchema = z.string({ error: expected('a string') }).check(
  z.refine((value) => /^[\x21-\x7e]{1,255}$/.test(value), 'must be 1 to 255 printable ASCII characters without spaces'),
);

/** A vendor's `"success": true` (`z.literal(true)`). */
export const literalTrue = oneOf([true], 'expected true');
