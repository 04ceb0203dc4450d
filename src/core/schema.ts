/**
 * The schema functions clawback validates with: the part of zod/mini's API it uses, under the
 * same names and with the same issue shapes (`invalid_type`, `custom`, `unrecognized_keys`),
 * written out. zod/mini's core alone was 5.5 kB of the 12 kB budget for `refund` + one provider
 * (#5); this is under 1 kB. The rules match zod's where clawback relied on them:
 * - `number()` takes finite numbers only;
 * - an object refuses `null` and arrays; `strictObject` reports unknown keys in one issue after
 *   the known keys' issues; `looseObject` keeps them;
 * - an optional key may be absent or `undefined`; an `exactOptional` key may be absent, and an
 *   `undefined` value is checked by the inner schema (and so refused);
 * - checks run only when the value passed its type (and its properties); every check runs.
 * Every rule is exercised by the test suite, which was written against zod.
 */

export interface Issue {
  code: 'invalid_type' | 'custom' | 'unrecognized_keys';
  /** Where, from the value parsed: `['amount', 'value']`. */
  path: PropertyKey[];
  message: string;
  input?: unknown;
  /** For `invalid_type`: `string`, `number`, `boolean` or `object`. */
  expected?: string;
  /** For `unrecognized_keys`. */
  keys?: string[];
}

/** An issue as a check reports it; `path` is relative to the value checked. */
export type IssueInput = Omit<Issue, 'path' | 'code'> & { code?: Issue['code']; path?: PropertyKey[] };

/** A message, or a function of the issue (`issue.input` is the value refused). */
export type ErrorParam = string | ((issue: { code: Issue['code']; input?: unknown; expected?: string | undefined }) => string);
export type Params = string | { error?: ErrorParam; path?: PropertyKey[] };

type Mode = 'required' | 'optional' | 'exact';

/** A check: `refine(predicate, params)`, or a function that inspects `ctx.value` and pushes to `ctx.issues`. */
export type Check<T> = { predicate: (value: T) => unknown; params: Params | undefined } | ((ctx: { value: T; issues: IssueInput[] }) => void);

export type SafeParseResult<T> = { success: true; data: T; error?: undefined } | { success: false; data?: undefined; error: { issues: Issue[] } };

function messageOf(params: Params | undefined, issue: { code: Issue['code']; input?: unknown; expected?: string }): string {
  const error = typeof params === 'string' ? params : params?.error;
  return typeof error === 'function' ? error(issue) : (error ?? 'Invalid input');
}

type Parse = (input: unknown, issues: Issue[]) => unknown;

interface Definition {
  type: string;
  shape?: Shape;
  innerType?: Schema<any, any>;
}

export class Schema<Output = unknown, Input = Output, M extends Mode = Mode> {
  /** Phantom: the parsed value's type, the accepted value's type, and how an object key may be left out. */
  declare readonly _output: Output;
  declare readonly _input: Input;
  declare readonly _mode: M;
  readonly def: Definition;
  readonly #parse: Parse;
  // Erased to `any`, so a schema of a narrower type is still a schema of `unknown` (covariance).
  readonly #checks: readonly Check<any>[];

  constructor(def: Definition, parse: Parse, checks: readonly Check<any>[] = []) {
    this.def = def;
    this.#parse = parse;
    this.#checks = checks;
  }

  /** A copy with more checks. */
  check(...checks: Check<Output>[]): Schema<Output, Input, M> {
    return new Schema(this.def, this.#parse, [...this.#checks, ...checks]);
  }

  /**
   * @internal Parses `input`, appending issues to `issues` with paths relative to `input`
   * (an object puts each key in front of its value's issues, so a valid value allocates no paths).
   */
  run(input: unknown, issues: Issue[]): unknown {
    if (this.#checks.length === 0) return this.#parse(input, issues);
    const before = issues.length;
    const value = this.#parse(input, issues);
    if (issues.length > before) return value;
    for (const check of this.#checks) {
      if (typeof check === 'function') {
        const reported: IssueInput[] = [];
        check({ value: value as Output, issues: reported });
        for (const issue of reported) issues.push({ code: 'custom', ...issue, path: [...(issue.path ?? [])] } as Issue);
      } else if (!check.predicate(value as Output)) {
        const path = typeof check.params === 'object' ? [...(check.params.path ?? [])] : [];
        issues.push({ code: 'custom', input: value, path, message: messageOf(check.params, { code: 'custom', input: value }) });
      }
    }
    return value;
  }

  safeParse(input: unknown): SafeParseResult<Output> {
    const issues: Issue[] = [];
    const data = this.run(input, issues);
    return issues.length === 0 ? { success: true, data: data as Output } : { success: false, error: { issues } };
  }
}

export type output<T> = T extends { readonly _output: infer O } ? O : never;
export type input<T> = T extends { readonly _input: infer I } ? I : never;

/** A type check: `accepts(value)` or an `invalid_type` issue expecting `expected`. */
function typed<T>(expected: string, accepts: (value: unknown) => boolean, params?: Params): Schema<T, T, 'required'> {
  return new Schema({ type: expected }, (input, issues) => {
    if (!accepts(input)) issues.push({ code: 'invalid_type', expected, input, path: [], message: messageOf(params, { code: 'invalid_type', expected, input }) });
    return input;
  });
}

export const string = (params?: Params) => typed<string>('string', (value) => typeof value === 'string', params);
export const number = (params?: Params) => typed<number>('number', (value) => typeof value === 'number' && Number.isFinite(value), params);
export const boolean = (params?: Params) => typed<boolean>('boolean', (value) => typeof value === 'boolean', params);
export const unknown = () => typed<unknown>('unknown', () => true);

/** A value `accepts` says yes to (anything without it); a `custom` issue otherwise. */
export function custom<T>(accepts?: (value: unknown) => unknown, params?: Params): Schema<T, T, 'required'> {
  return new Schema({ type: 'custom' }, (input, issues) => {
    if (accepts && !accepts(input)) issues.push({ code: 'custom', input, path: [], message: messageOf(params, { code: 'custom', input }) });
    return input;
  });
}

/** A check that `predicate` holds. */
export function refine<T>(predicate: (value: T) => unknown, params?: Params): Check<T> {
  return { predicate, params };
}

function wrap<O, I, M extends Mode>(inner: Schema<any, any>, type: string, skip: (input: unknown) => boolean) {
  return new Schema<O, I, M>({ type, innerType: inner }, (input, issues) => (skip(input) ? input : inner.run(input, issues)));
}

/** May be left out or `undefined`. */
export const optional = <T extends Schema<any, any>>(inner: T) =>
  wrap<output<T> | undefined, input<T> | undefined, 'optional'>(inner, 'optional', (input) => input === undefined);

/** May be left out of an object, but not set to `undefined`. */
export const exactOptional = <T extends Schema<any, any>>(inner: T) =>
  wrap<output<T>, input<T>, 'exact'>(inner, 'exact', () => false);

export const nullable = <T extends Schema<any, any>>(inner: T) =>
  wrap<output<T> | null, input<T> | null, T['_mode']>(inner, 'nullable', (input) => input === null);

export type Shape = Record<string, Schema<any, any>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K]['_mode'] extends 'required' ? never : K }[keyof S];
type RequiredKeys<S extends Shape> = Exclude<keyof S, OptionalKeys<S>>;
type Flatten<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOutput<S extends Shape> = Flatten<{ [K in RequiredKeys<S>]: output<S[K]> } & { [K in OptionalKeys<S>]?: output<S[K]> }>;
export type ObjectInput<S extends Shape> = Flatten<{ [K in RequiredKeys<S>]: input<S[K]> } & { [K in OptionalKeys<S>]?: input<S[K]> }>;

/** An object that is not `null` or an array: what an object schema accepts. */
export const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function object<O, I>(shape: Shape, params: Params | undefined, unknownKeys: 'refuse' | 'keep') {
  const entries = Object.entries(shape).map(([key, schema]) => ({ key, schema, exact: schema.def.type === 'exact' }));
  const known = new Set(Object.keys(shape));
  return new Schema<O, I, 'required'>({ type: 'object', shape }, (input, issues) => {
    if (!isPlainObject(input)) {
      issues.push({ code: 'invalid_type', expected: 'object', input, path: [], message: messageOf(params, { code: 'invalid_type', expected: 'object', input }) });
      return input;
    }
    const output: Record<string, unknown> = {};
    for (const { key, schema, exact } of entries) {
      const present = key in input;
      if (!present && exact) continue;
      const before = issues.length;
      const value = schema.run(input[key], issues);
      for (let index = before; index < issues.length; index++) (issues[index] as Issue).path.unshift(key);
      if (value !== undefined || present) output[key] = value;
    }
    let extra: string[] | undefined;
    for (const key in input) {
      if (known.has(key) || !Object.hasOwn(input, key)) continue;
      if (unknownKeys === 'refuse') (extra ??= []).push(key);
      // Defined, not assigned: a "__proto__" key from JSON.parse must stay data, not a prototype.
      else if (key === '__proto__') Object.defineProperty(output, key, { value: input[key], enumerable: true, writable: true, configurable: true });
      else output[key] = input[key];
    }
    if (extra) issues.push({ code: 'unrecognized_keys', keys: extra, input, path: [], message: `Unrecognized key${extra.length > 1 ? 's' : ''}: ${extra.join(', ')}` });
    return output;
  });
}

/** An object whose unknown keys are refused. */
export const strictObject = <S extends Shape>(shape: S, params?: Params) => object<ObjectOutput<S>, ObjectInput<S>>(shape, params, 'refuse');

/** An object whose unknown keys are kept (a vendor's new fields survive). */
export const looseObject = <S extends Shape>(shape: S, params?: Params) =>
  object<Flatten<ObjectOutput<S> & { [key: string]: unknown }>, Flatten<ObjectInput<S> & { [key: string]: unknown }>>(shape, params, 'keep');
