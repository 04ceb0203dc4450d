import type { ProviderName } from '../spec/refund-provider-v1.js';

/**
 * Where clawback writes what it does: `console` works, as does pino, winston or any object with
 * these methods. `debug`: each request and response. `warn`: each retry, and hooks that threw.
 */
export interface Logger {
  /** One line per request and per answer, credentials redacted. */
  debug?(message: string, data?: Record<string, unknown>): void;
  /** Something you should know about: a retry, a shared store that fell back, a warning in a result. */
  warn?(message: string, data?: Record<string, unknown>): void;
}

/** One attempt about to be sent. */
export interface RequestEvent {
  provider: ProviderName;
  method: 'POST';
  url: string;
  /** The headers sent, lower-case names. `authorization`, and any value containing the API key, read `[redacted]`. */
  headers: Record<string, string>;
  /** The JSON body, as sent. */
  body: unknown;
  /** 1 for the first attempt, 2 for the first retry, … */
  attempt: number;
  idempotencyKey: string | undefined;
}

/** One attempt finished: an HTTP answer, or none (`failure`). */
export interface ResponseEvent {
  provider: ProviderName;
  method: 'POST';
  url: string;
  attempt: number;
  idempotencyKey: string | undefined;
  /** HTTP status; undefined when no answer arrived. */
  status: number | undefined;
  /** Response headers, lower-case names, redacted like the request's (`set-cookie` too). */
  headers: Record<string, string>;
  /** Milliseconds from sending to the whole body read, or to the failure. */
  durationMs: number;
  /** Why no answer arrived. */
  failure?: 'timeout' | 'aborted' | 'connection';
}

/** Settings for observing requests. Hooks only observe: one that throws is reported to `logger.warn` and ignored. */
export interface ObservabilitySettings {
  logger?: Logger;
  /** Called before each attempt is sent, with what is sent (credentials redacted). */
  onRequest?: (event: RequestEvent) => void;
  /** Called after each attempt, with the status, the time it took, and whether it will be retried. */
  onResponse?: (event: ResponseEvent) => void;
}

/**
 * Header names whose values are credentials: ours (`authorization`), cookies, and a caller's own
 * (`x-api-key`, `x-proxy-token`, a webhook `signature`…), whatever secret they carry.
 */
const SECRET_HEADER = /auth|cookie|token|secret|key|signature|session|password/i;

/** A copy of `headers` safe to hand to a hook or a log line. */
export function redactHeaders(
  headers: Iterable<[string, string]>,
  redact: (text: string) => string,
): Record<string, string> {
  const safe: Record<string, string> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    safe[key] = SECRET_HEADER.test(key) ? '[redacted]' : redact(value);
  }
  return safe;
}

/**
 * Calls `call`; false if it threw. An async observer's rejection goes to `onRejected` instead of
 * becoming an unhandled rejection (which Node turns into a crash).
 */
function safely(call: () => unknown, onRejected: () => void = () => {}): boolean {
  try {
    const result = call() as { then?: unknown } | undefined;
    if (typeof result?.then === 'function') (result as PromiseLike<unknown>).then(undefined, onRejected);
    return true;
  } catch {
    return false;
  }
}

/** Writes to the logger, if any; a logger that throws (or rejects) is ignored. */
export function log(logger: Logger | undefined, level: keyof Logger, message: string, data?: Record<string, unknown>): void {
  if (logger?.[level]) safely(() => logger[level]?.(message, data));
}

/** Calls an observer, never letting it throw into a refund: observing must not change whether money moves. */
export function notify<T>(name: string, hook: ((event: T) => void) | undefined, event: T, logger: Logger | undefined): void {
  const report = () => log(logger, 'warn', `clawback: the ${name} hook threw; ignored`);
  if (hook && !safely(() => hook(event), report)) report();
}
