import { ValidationError } from './errors.js';
import type { ProviderName } from '../spec/refund-provider-v1.js';

// Credentials and other settings that may come from the environment: an explicit setting wins,
// then the environment variable; a runtime that will not let clawback read the environment
// (Deno without --allow-env) makes an optional variable unset and a required one a
// ValidationError that says so.

/**
 * `process.env[name]`, where there is a `process` (not in edge runtimes or browsers): its value
 * (blank reads as unset), or why the runtime refused to read it. Deno without `--allow-env` throws
 * `NotCapable` on every read; an optional variable the runtime will not show is simply unset.
 */
function readEnvironment(name: string): { value: string | undefined; refused?: string } {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    const value = env?.[name];
    return { value: value === undefined || value.trim() === '' ? undefined : value };
  } catch (error) {
    return { value: undefined, refused: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

/** An optional environment variable: its value, or undefined when unset, blank, or not readable here. */
export function readEnv(name: string): string | undefined {
  return readEnvironment(name).value;
}

/** The explicit setting, else the environment variable; one that cannot be sent as a header value is refused (never echoed). */
function resolveCredential(value: string | undefined, setting: string, envName: string, factory: string, provider: ProviderName) {
  const read = value === undefined ? readEnvironment(envName) : { value };
  if (read.value === undefined || /^[\x21-\x7e]+$/.test(read.value)) return read;
  // Usually a trailing newline from a secrets file.
  const source = value === undefined ? `the ${envName} environment variable` : `the ${setting} setting`;
  throw new ValidationError([{ path: setting, message: `must be printable ASCII without spaces or line breaks: check ${source}` }], {
    context: `${factory}() settings`,
    provider,
  });
}

/** A credential: the explicit setting, else the environment variable, else undefined (also when the runtime will not let it be read). */
export function readCredential(
  value: string | undefined,
  setting: string,
  envName: string,
  factory: string,
  provider: ProviderName,
): string | undefined {
  return resolveCredential(value, setting, envName, factory, provider).value;
}

/** The explicit setting, else the environment variable, else a `ValidationError` saying how to provide it. */
export function requireSetting(
  value: string | undefined,
  setting: string,
  envName: string,
  factory: string,
  provider: ProviderName,
): string {
  const { value: resolved, refused } = resolveCredential(value, setting, envName, factory, provider);
  if (resolved !== undefined) return resolved;
  const unreadable = refused
    ? `, which this runtime did not let clawback read (${refused}); on Deno, run with --allow-env=${envName}`
    : '';
  throw new ValidationError([{ path: setting, message: `is missing: pass ${setting} to ${factory}() or set the ${envName} environment variable${unreadable}` }], {
    context: `${factory}() settings`,
    provider,
  });
}

/**
 * A drop-in constructor's key: the argument, or (when it is undefined, as `process.env.X` is when
 * unset) the environment variable clawback's factory reads. Refused with a `ValidationError` that
 * names the variable it read and what it got, never the key itself.
 */
export function compatKey(
  value: unknown,
  { path, envName, pattern, expected, context, provider }: { path: string; envName: string; pattern: RegExp; expected: string; context: string; provider: ProviderName },
): string {
  const key = value === undefined ? readEnv(envName) : value;
  if (typeof key === 'string' && pattern.test(key)) return key;
  const what = (found: unknown) =>
    typeof found !== 'string' ? (found === null ? 'null' : typeof found) : /^[a-z]+_(live|test)_/i.test(found) ? `a key starting ${/^[a-z]+_(live|test)_/i.exec(found)?.[0]}…` : `a string of ${found.length} characters`;
  const got =
    value !== undefined
      ? `got ${what(value)}`
      : key === undefined
        ? `got undefined, and ${envName} (read instead) is not set`
        : `got undefined, and ${envName} (read instead) holds ${what(key)}`;
  throw new ValidationError([{ path, message: `must be ${expected}; ${got}` }], { context, provider });
}
