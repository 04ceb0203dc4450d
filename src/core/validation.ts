import * as z from 'zod/mini';
// Named imports, not `z.core.…`: reaching through the namespace object makes bundlers keep all
// of zod (400 kB) instead of the pieces used.
import { $constructor, $ZodObjectJIT } from 'zod/v4/core';
import { ValidationError, type ValidationIssue } from './errors.js';
import { currencyExponent } from './money.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

type Schema<T> = z.ZodMiniType<T, unknown>;

/**
 * zod/mini's object, parsed by zod core's JIT-compiled object parser ($ZodObjectJIT, which
 * classic zod uses and zod/mini does not): the same schema and the same issues, 3× faster
 * (bench/RESULTS.md). Built exactly as zod/mini builds its own object, through zod core's
 * `$constructor`, the API zod documents for schema libraries. Where `eval` is not allowed
 * (some edge runtimes), zod falls back to the ordinary parser by itself.
 */
const miniType = z.ZodMiniType as unknown as { init(instance: unknown, definition: unknown): void };
const ZodMiniObjectJIT = $constructor('ZodMiniObjectJIT', (instance: z.core.$ZodObject, definition: z.core.$ZodObjectDef) => {
  $ZodObjectJIT.init(instance, definition);
  miniType.init(instance, definition);
  Object.defineProperty(instance, 'shape', { get: () => definition.shape });
}) as unknown as new (definition: z.core.$ZodObjectDef) => z.ZodMiniObject;

/**
 * zod's `util.normalizeParams` for the forms used here (a message, or `{ error }`): zod's
 * `util` is only importable whole, and a bundle would then carry all of it.
 */
function normalizeParams(params?: string | z.core.$ZodObjectParams): Record<string, unknown> {
  if (!params) return {};
  if (typeof params === 'string') return { error: () => params };
  const { error } = params;
  return typeof error === 'string' ? { ...params, error: () => error } : params;
}

/** `z.strictObject`, JIT-parsed: unknown keys are refused. */
export function strictObject<T extends z.core.$ZodLooseShape>(
  shape: T,
  params?: string | z.core.$ZodObjectParams,
): ReturnType<typeof z.strictObject<T>> {
  return new ZodMiniObjectJIT({ type: 'object', shape, catchall: z.never(), ...normalizeParams(params) }) as never;
}

/** `z.looseObject`, JIT-parsed: unknown keys are kept (a vendor's new fields survive). */
export function looseObject<T extends z.core.$ZodLooseShape>(
  shape: T,
  params?: string | z.core.$ZodObjectParams,
): ReturnType<typeof z.looseObject<T>> {
  return new ZodMiniObjectJIT({ type: 'object', shape, catchall: z.unknown(), ...normalizeParams(params) }) as never;
}

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

function toIssues(zodIssues: readonly z.core.$ZodIssue[], knownKeysAt: (path: string) => readonly string[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  for (const issue of zodIssues) {
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

/** A vendor-response issue in words: "expected string", "expected true", not zod/mini's bare "Invalid input". */
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
export const optional = <T extends z.ZodMiniType>(schema: T) => z.optional(schema);

/**
 * May be left out, but not set to `undefined`: for amounts, where leaving one out means "refund
 * everything" and an `undefined` is usually a lost value rather than that intent.
 */
export const omittable = <T extends z.ZodMiniType>(schema: T) => z.exactOptional(schema);

const MAX_TIMEOUT = 2_147_483_647;

export const timeoutSchema = z.int({ error: expected('a whole number of milliseconds') }).check(
  z.refine((value) => value > 0 && value <= MAX_TIMEOUT, `must be between 1 and ${MAX_TIMEOUT} milliseconds`),
);

export const maxRetriesSchema = z.int({ error: expected('a whole number') }).check(
  z.refine((value) => value >= 0 && value <= 10, 'must be between 0 and 10'),
);

const isAbortSignal = (value: unknown): value is AbortSignal =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as AbortSignal).aborted === 'boolean' &&
  typeof (value as AbortSignal).addEventListener === 'function';

export const signalSchema = z.custom<AbortSignal>(isAbortSignal, { error: expected('an AbortSignal') });

/** The last argument of every native call and part of `refund()`'s options. */
export const callOptionsShape = {
  signal: optional(signalSchema),
  timeout: optional(timeoutSchema),
  maxRetries: optional(maxRetriesSchema),
  totalTimeout: optional(timeoutSchema),
};

export const callOptionsSchema = strictObject(callOptionsShape, { error: expected('an object') });

/** ISO 4217 code, any case; output upper-cased. */
export const currencySchema = z.pipe(
  z.string({ error: expected('an ISO 4217 currency code such as "USD"') }),
  z.transform((value, ctx) => {
    const code = value.toUpperCase();
    if (currencyExponent(code) === undefined) {
      ctx.issues.push({ code: 'custom', input: value, message: `is not a known ISO 4217 currency code (got "${value}")` });
    }
    return code;
  }),
);

export const moneySchema = strictObject(
  {
    value: z.int({ error: expected('a whole number of minor units (4950 = 49.50)') }).check(
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

/** An ISO 8601 date-time with a zone, or a valid Date; output in UTC ISO form. */
const timestampMessage = 'must be a valid Date or an ISO 8601 date-time with a time zone, like "2026-06-22T16:10:00Z"';
export const timestampSchema = z.pipe(
  z.union([z.date({ error: timestampMessage }), z.iso.datetime({ offset: true, error: timestampMessage })], {
    error: timestampMessage,
  }),
  z.transform((value) => new Date(value).toISOString()),
);

export const idempotencyKeySchema = z.string({ error: expected('a string') }).check(
  z.refine((value) => /^[\x21-\x7e]{1,255}$/.test(value), 'must be 1 to 255 printable ASCII characters without spaces'),
);
