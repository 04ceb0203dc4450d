// The zod/mini rules clawback's validation relies on, one by one, so a zod upgrade that changes
// one fails here first, naming it. (These pinned src/core/schema.ts, the hand-written copy of
// zod/mini's API, until #11 put zod back; three expectations changed with it: an unknown key's
// message is the object's own `error`, zod refuses an unsafe integer with `too_big`, and zod
// leaves a "__proto__" key out of its output instead of keeping it, see the last test.)
import * as z from 'zod/mini';
import { describe, expect, it } from 'vitest';

const issuesOf = (schema: z.ZodMiniType, value: unknown) => {
  const result = schema.safeParse(value);
  return result.success ? [] : result.error.issues.map(({ code, path, message }) => ({ code, path: path.join('.'), message }));
};

describe('zod/mini, as clawback uses it', () => {
  it('types: strings, finite numbers, booleans', () => {
    expect(z.string().safeParse('a')).toEqual({ success: true, data: 'a' });
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, '1']) {
      expect(issuesOf(z.number({ error: 'must be a number' }), value)).toEqual([{ code: 'invalid_type', path: '', message: 'must be a number' }]);
    }
    expect(issuesOf(z.boolean(), 'true')[0]).toMatchObject({ code: 'invalid_type', message: 'Invalid input' });
  });

  it('gives a message function the value refused', () => {
    const schema = z.string({ error: (issue) => `got ${typeof issue.input}` });
    expect(issuesOf(schema, 5)[0]?.message).toBe('got number');
  });

  it('int: safe integers only, with the same message for every refusal', () => {
    const schema = z.int({ error: (issue) => `whole, got ${String(issue.input)}` });
    expect(schema.safeParse(4950).success).toBe(true);
    expect(issuesOf(schema, 1.5)).toEqual([{ code: 'invalid_type', path: '', message: 'whole, got 1.5' }]);
    expect(issuesOf(schema, 2 ** 60)).toEqual([{ code: 'too_big', path: '', message: `whole, got ${2 ** 60}` }]);
  });

  it('runs checks only on a value of the right type, and runs all of them', () => {
    let calls = 0;
    const schema = z.string().check(
      z.refine((value) => {
        calls += 1;
        return value.length > 3;
      }, 'too short'),
      z.refine((value) => value.startsWith('x'), 'must start with x'),
    );
    expect(issuesOf(schema, 5)).toHaveLength(1);
    expect(calls).toBe(0);
    expect(issuesOf(schema, 'ab').map((issue) => issue.message)).toEqual(['too short', 'must start with x']);
  });

  it("objects: refuse null and arrays; name each bad key; report unknown keys last, in one issue", () => {
    const schema = z.strictObject({ a: z.string(), b: z.number() }, { error: 'must be an object' });
    expect(issuesOf(schema, null)).toEqual([{ code: 'invalid_type', path: '', message: 'must be an object' }]);
    expect(issuesOf(schema, [])).toEqual([{ code: 'invalid_type', path: '', message: 'must be an object' }]);
    const result = schema.safeParse({ zz: 1, a: 1, b: 'x', yy: 2 });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((issue) => [issue.code, issue.path.join('.'), 'keys' in issue ? issue.keys : undefined])).toEqual([
      ['invalid_type', 'a', undefined],
      ['invalid_type', 'b', undefined],
      ['unrecognized_keys', '', ['zz', 'yy']],
    ]);
  });

  it('loose objects keep unknown keys', () => {
    expect(z.looseObject({ a: z.string() }).safeParse({ a: 'x', extra: [1] })).toEqual({ success: true, data: { a: 'x', extra: [1] } });
  });

  it('optional: absent or undefined; exactOptional: absent, but undefined is checked (and refused)', () => {
    const schema = z.strictObject({ soft: z.optional(z.string()), exact: z.exactOptional(z.number({ error: 'is undefined' })) });
    expect(schema.safeParse({})).toEqual({ success: true, data: {} });
    expect(schema.safeParse({ soft: undefined }).success).toBe(true);
    expect(issuesOf(schema, { exact: undefined })).toEqual([{ code: 'invalid_type', path: 'exact', message: 'is undefined' }]);
    expect(issuesOf(schema, { soft: 1 })[0]?.path).toBe('soft');
  });

  it('a required key that is absent is checked as undefined', () => {
    const schema = z.strictObject({ id: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'bad') }) });
    expect(issuesOf(schema, {})).toEqual([{ code: 'invalid_type', path: 'id', message: 'is required' }]);
  });

  it('nullable takes null', () => {
    expect(z.nullable(z.string()).safeParse(null)).toEqual({ success: true, data: null });
    expect(issuesOf(z.nullable(z.string()), 1)).toHaveLength(1);
  });

  it('catch: a documented field of another type parses as absent instead of failing', () => {
    const schema = z.looseObject({ id: z.string(), referral_id: z.catch(z.optional(z.nullable(z.string())), undefined) });
    expect(schema.safeParse({ id: 'c', referral_id: 42 })).toMatchObject({ success: true, data: { id: 'c', referral_id: undefined } });
    expect(issuesOf(schema, { referral_id: 'r' })).toEqual([{ code: 'invalid_type', path: 'id', message: 'Invalid input' }]);
  });

  it('custom: a predicate, or anything; object checks see the whole object and can point at a key', () => {
    expect(issuesOf(z.custom((value) => value === true, 'expected true'), 'true')).toEqual([{ code: 'custom', path: '', message: 'expected true' }]);
    expect(z.custom().safeParse(Symbol.for('x')).success).toBe(true);
    const pair = z
      .strictObject({ email: z.optional(z.string()), uid: z.optional(z.string()) })
      .check(z.refine((value) => (value.email === undefined) !== (value.uid === undefined), { error: 'one of them', path: ['email'] }));
    expect(issuesOf(pair, {})).toEqual([{ code: 'custom', path: 'email', message: 'one of them' }]);
  });

  it('an object check does not run when a property already failed', () => {
    let calls = 0;
    const schema = z.strictObject({ email: z.optional(z.string()) }).check(
      z.refine(() => {
        calls += 1;
        return true;
      }, 'never'),
    );
    expect(issuesOf(schema, { email: 5 })).toHaveLength(1);
    expect(calls).toBe(0);
  });

  it('function checks report issues relative to the value, prefixed with where it sits', () => {
    const headers = z.custom<Record<string, string>>().check((ctx) => {
      for (const name of Object.keys(ctx.value)) if (name.includes(' ')) ctx.issues.push({ code: 'custom', input: name, path: [name], message: 'bad name' });
    });
    const schema = z.strictObject({ headers: z.optional(headers) });
    expect(issuesOf(schema, { headers: { 'a b': 'x' } })).toEqual([{ code: 'custom', path: 'headers.a b', message: 'bad name' }]);
  });

  it('infers optional keys in object types', () => {
    const schema = z.strictObject({ a: z.string(), b: z.optional(z.number()), c: z.exactOptional(z.boolean()) });
    const value: z.output<typeof schema> = { a: 'x' };
    // @ts-expect-error a is required
    const missing: z.output<typeof schema> = { b: 1 };
    expect([value, missing]).toHaveLength(2);
  });
});

describe('zod/mini: keys that are not plain data', () => {
  it('a key named like an Object.prototype member is still unknown to a strict object', () => {
    expect(issuesOf(z.strictObject({ a: z.string() }, { error: 'must be an object' }), { a: 'x', toString: 'y' })).toEqual([
      { code: 'unrecognized_keys', path: '', message: 'must be an object' },
    ]);
  });

  it('a "__proto__" key from JSON never becomes a prototype: zod leaves it out of its output', () => {
    // zod skips it on purpose (colinhacks/zod#5898). clawback therefore hands back the vendor's
    // body as received after validating it, where the key stays data: see "a __proto__ key in a
    // vendor body" in test/providers/affonso.test.ts.
    const parsed = z.looseObject({ a: z.string() }).safeParse(JSON.parse('{"a":"x","__proto__":{"polluted":true}}'));
    expect(parsed.success).toBe(true);
    expect(Object.getPrototypeOf(parsed.data)).toBe(Object.prototype);
    expect((parsed.data as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(parsed.data ?? {})).toEqual(['a']);
  });

  it('a strict object refuses a "__proto__" key as unknown', () => {
    expect(issuesOf(z.strictObject({ a: z.string() }), JSON.parse('{"a":"x","__proto__":{}}'))).toEqual([
      { code: 'unrecognized_keys', path: '', message: 'Invalid input' },
    ]);
  });
});
