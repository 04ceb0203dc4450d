import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as errors from '../../src/core/errors.js';

const {
  ApiError,
  AuthenticationError,
  ClawbackError,
  PermissionDeniedError,
  RateLimitError,
  ServerError,
  TimeoutError,
  ValidationError,
} = errors;

describe('error hierarchy', () => {
  it('names each class, minification-proof, in name and stack', () => {
    const error = new AuthenticationError('bad key', { provider: 'affonso', status: 401 });
    expect(error.name).toBe('AuthenticationError');
    expect(error.stack?.startsWith('AuthenticationError: bad key')).toBe(true);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toBeInstanceOf(ClawbackError);
  });

  it('isInstance follows the hierarchy', () => {
    const auth = new AuthenticationError('x', { status: 401 });
    expect(ClawbackError.isInstance(auth)).toBe(true);
    expect(ApiError.isInstance(auth)).toBe(true);
    expect(AuthenticationError.isInstance(auth)).toBe(true);
    expect(ServerError.isInstance(auth)).toBe(false);
    expect(TimeoutError.isInstance(new ApiError('x', { status: 500 }))).toBe(false);
    expect(ClawbackError.isInstance(new Error('x'))).toBe(false);
    expect(ClawbackError.isInstance(null)).toBe(false);
    expect(ClawbackError.isInstance('ClawbackError')).toBe(false);
  });

  it('isInstance recognises errors from a second copy of the package, where instanceof fails', async () => {
    // A query string makes Vite load the module again: a separate copy with its own classes.
    const specifier = '../../src/core/errors.ts?second-copy';
    const copy = (await import(/* @vite-ignore */ specifier)) as typeof errors;
    expect(copy.RateLimitError).not.toBe(RateLimitError);
    const foreign = new copy.RateLimitError('slow down', { status: 429, retryAfter: 1000 });
    expect(foreign instanceof RateLimitError).toBe(false);
    expect(RateLimitError.isInstance(foreign)).toBe(true);
    expect(ApiError.isInstance(foreign)).toBe(true);
    expect(ClawbackError.isInstance(foreign)).toBe(true);
    expect(ServerError.isInstance(foreign)).toBe(false);
    expect(copy.ClawbackError.isInstance(new PermissionDeniedError('x', { status: 403, need: 'track' }))).toBe(true);
  });

  it('carries every field, defaults retryable to false, and serialises them', () => {
    const error = new RateLimitError('slow down', {
      provider: 'affonso',
      status: 429,
      code: 'RATE_LIMIT_EXCEEDED',
      requestId: 'req_1',
      body: { success: false },
      idempotencyKey: 'key_1',
      retryable: true,
      retryAfter: 2000,
    });
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'RateLimitError',
      message: 'slow down',
      provider: 'affonso',
      status: 429,
      code: 'RATE_LIMIT_EXCEEDED',
      requestId: 'req_1',
      body: { success: false },
      idempotencyKey: 'key_1',
      retryable: true,
      ambiguous: false,
      retryAfter: 2000,
    });
    expect(new ServerError('x', { status: 500 })).toMatchObject({ retryable: false, ambiguous: false });
    expect(new ServerError('x', { status: 500, ambiguous: true }).ambiguous).toBe(true);
    expect(inspect(error)).toContain("code: 'RATE_LIMIT_EXCEEDED'");
  });

  it('ValidationError lists every issue and names the first field', () => {
    const error = new ValidationError(
      [
        { path: 'amount.value', message: 'must be a whole number' },
        { path: 'conversionId', message: 'is required' },
      ],
      { context: 'Invalid refund() options' },
    );
    expect(error.message).toBe('Invalid refund() options: amount.value: must be a whole number; conversionId: is required');
    expect(error.field).toBe('amount.value');
    expect(error.issues).toHaveLength(2);
  });
});
