import * as z from 'zod/mini';
import { ValidationError, type ValidationIssue } from './errors.js';
import { currencyExponent } from './money.js';
import { closestKey } from './suggest.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

/** Any zod schema: what clawback validates with, and what `clawback/schemas` exports. */
export type Schema<Output = unknown, Input = unknown> = z.ZodMiniType<Output, Input>;

/** An object that is not `null` or an array: what an object schema accepts. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return String(value);
  return typeof value;
}

/** zod's issues as clawback's: one per field, unknown keys one by one with a "did you mean". */
function toIssues(schemaIssues: readonly z.core.$ZodIssue[], knownKeysAt: (path: string) => readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const issue of schemaIssues) {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
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

/** The keys an object schema knows at `path` (through optional and nullable wrappers). */
function shapeKeys(schema: unknown, path: string): readonly string[] {
  type Node = { def?: { shape?: Record<string, unknown>; innerType?: unknown } } | undefined;
  const unwrap = (node: Node): Node => {
    while (node?.def?.innerType) node = node.def.innerType as Node;
    return node;
  };
  let current = unwrap(schema as Node);
  for (const segment of path ? path.split('.') : []) current = unwrap(current?.def?.shape?.[segment] as Node);
  return Object.keys(current?.def?.shape ?? {});
}

/**
 * Parses `value` with `schema`, or throws a `ValidationError` naming every bad field.
 * `context` starts the message ("Invalid refund() options").
 */
export function parseInput<T>(schema: Schema<T>, value: unknown, context: string, provider?: ProviderName): T {
  let result: ReturnType<Schema<T>['safeParse']>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // A getter or proxy in the input that throws when read: bad input, never a raw TypeError.
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    throw new ValidationError([{ path: '(input)', message: `could not be read (${why})` }], { context, provider });
  }
  if (result.success) return result.data;
  throw new ValidationError(toIssues(result.error.issues, (path) => shapeKeys(schema, path)), { context, provider });
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
export function describeSchemaIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') return `expected ${issue.expected}`;
  if (issue.code === 'invalid_value') return `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')}`;
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

type Message = string | ((issue: { input?: unknown }) => string);

/** Message helper: "is required" when absent, `expected` otherwise, naming what was received. */
export function expected(what: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : `must be ${what}, got ${describe(issue.input)}`);
}

export const nonEmptyString = (what = 'a non-empty string') =>
  z.string({ error: expected(what) }).check(z.refine((value) => value.trim().length > 0, 'must not be empty or blank'));

/** May be left out or set to `undefined` (e.g. `apiKey: process.env.KEY`, unset). */
export const optional = z.optional;

/**
 * May be left out, but not set to `undefined`: for amounts, where leaving one out means "refund
 * everything" and an `undefined` is usually a lost value rather than that intent.
 */
export const omittable = z.exactOptional;

/** Unknown keys are refused. */
export const strictObject = z.strictObject;

/** Unknown keys are kept (a vendor's new fields survive). */
export const looseObject = z.looseObject;

/**
 * A field a vendor documents but clawback does not read: typed (for `z.output`), never refused.
 * A vendor changing a field clawback ignores must not turn a refund it applied into a
 * `ResponseValidationError`. (`z.catch` would do the same and describe the type to
 * `z.toJSONSchema`, for 3 kB more in every bundle; the body is handed back as received anyway.)
 */
export const documented = <T>() => z.optional(z.custom<T>());

const MAX_TIMEOUT = 2_147_483_647;

/** A safe integer. */
export const integer = (error: Message) => z.int({ error });

/** A string matching `pattern`. */
export const matches = (pattern: RegExp, message: string) => z.regex(pattern, message);

/** Exactly one of `values`. */
export const oneOf = <const T extends readonly z.core.util.Literal[]>(values: T, error: Message) =>
  z.literal(values, { error });

/**
 * An RFC 3339 / ISO 8601 date-time with a zone: "Z" or an offset, seconds and fractions
 * optional, and a day that exists (V8's `Date.parse` takes February 30 and moves it to March).
 * zod's `iso.datetime` requires seconds and a colon in the offset, which the vendors and
 * `Date` do not, so this is a refinement.
 */
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d)$/;
export function isIsoDateTime(value: string): boolean {
  const match = ISO_DATE_TIME.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1, 4).map(Number) as [number, number, number];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Why a header value cannot be sent, or undefined. Fetch takes only ByteStrings (every character
 * ≤ U+00FF) without NUL, CR or LF; anything else fails inside `fetch`, after validation, as a
 * `TypeError` that reads like a network failure. Other control characters are refused too
 * (RFC 9110 §5.5 field-value: visible characters, space, tab, obs-text).
 */
export function headerValueProblem(value: string): string | undefined {
  for (let index = 0; index < value.length; index++) {
    const code = value.charCodeAt(index);
    if (code === 0x0a || code === 0x0d || code === 0) return 'must not contain line breaks or NUL characters';
    if (code > 0xff) {
      return `can only hold Latin-1 characters (a ByteString): "${value[index]}" at position ${index} cannot be sent in an HTTP header`;
    }
    if ((code < 0x20 && code !== 0x09) || code === 0x7f) return `must not contain control characters (U+${code.toString(16).padStart(4, '0').toUpperCase()} at position ${index})`;
  }
  return undefined;
}

/** Extra request headers: valid names, string values fetch can send. */
export const headersSchema = z.custom<Record<string, string>>().check((ctx) => {
  const value: unknown = ctx.value;
  const problem = (message: string, path: string[] = []) => ctx.issues.push({ code: 'custom', input: value, path, message });
  if (!isPlainObject(value)) {
    problem(expected('an object of header names to string values')({ input: value }));
    return;
  }
  for (const [name, header] of Object.entries(value)) {
    if (!HEADER_NAME.test(name)) problem('is not a valid HTTP header name', [name]);
    else if (typeof header !== 'string') problem(expected('a string header value')({ input: header }), [name]);
    else {
      const why = headerValueProblem(header);
      if (why) problem(why, [name]);
    }
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

/** The per-call options every call takes (`signal`, `timeout`, `maxRetries`, `totalTimeout`, `headers`), as a zod schema. */
export const callOptionsSchema = strictObject(callOptionsShape, { error: expected('an object') });

/** ISO 4217 code, any case (`refund()` upper-cases it after parsing). */
export const currencySchema = z.string({ error: expected('an ISO 4217 currency code such as "USD"') }).check(
  z.refine((value) => currencyExponent(value.toUpperCase()) !== undefined, {
    error: (issue) => `is not a known ISO 4217 currency code (got "${String(issue.input)}")`,
  }),
);

/** Money inside clawback: `{ value, currency }`, `value` a positive integer of the currency's minor units. */
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

/** An idempotency key: 1–255 printable ASCII characters. */
export const idempotencyKeySchema = z.string({ error: expected('a string') }).check(
  matches(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 printable ASCII characters without spaces'),
);

/** A vendor's `"success": true`. */
export const literalTrue = z.literal(true, { error: 'expected true' });
