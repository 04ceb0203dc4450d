import { isAbortError } from './failures.js';
import { log, notify, redactHeaders } from './hooks.js';
import type { Redactor } from './redaction.js';
import { readCapped, responseOf, toResponse } from './response-body.js';
import { releaseSlot, type Answer, type Call, type FetchFunction, type TransportContext } from './transport-types.js';

// One attempt, as clawback sends it whatever ky or a caller's hook did: the credentials and
// `redirect: 'manual'` in force, a body read that stops at `MAX_RESPONSE_BYTES` decoded bytes,
// a record of whether the attempt was ever handed to fetch (so the vendor may have seen it), and
// the observability events.

const MAX_BODY_TEXT_IN_ERRORS = 2_000;

function parseBody(text: string, redactor: Redactor): unknown {
  if (!/\S/.test(text)) return undefined;
  try {
    // Without a backslash no JSON escape can spell a secret the text redaction missed.
    const parsed: unknown = JSON.parse(text);
    return text.includes('\\') ? redactor.value(parsed) : parsed;
  } catch {
    return text.length > MAX_BODY_TEXT_IN_ERRORS ? `${text.slice(0, MAX_BODY_TEXT_IN_ERRORS)}…` : text;
  }
}

/** A vendor's answer, read: secrets redacted, JSON parsed (unless it was too large to read). */
export function answerOf(context: TransportContext, response: Response, text: string, oversized: boolean): Answer {
  const { redactor } = context.prepare();
  const safeText = redactor.text(text);
  const requestId = response.headers.get('x-request-id');
  return {
    status: response.status,
    headers: response.headers,
    text: safeText,
    body: oversized ? undefined : parseBody(safeText, redactor),
    requestId: requestId === null ? undefined : redactor.text(requestId),
    oversized,
  };
}

/**
 * Sends one attempt and reads its answer. It is ky's `fetch`, so ky's `timeout` bounds the
 * whole exchange, headers and body.
 */
export async function sendAttempt(context: TransportContext, call: Call, baseFetch: FetchFunction, input: Request, init: RequestInit): Promise<Response> {
  const { provider } = context.config;
  const { logger, onRequest, onResponse } = context.config.observe;
  const observed = Boolean(logger?.debug || onRequest || onResponse);
  const request = input.redirect === 'manual' ? input : new Request(input, { redirect: 'manual' });
  // Only a caller's request hook can have changed clawback's headers after ky merged them.
  if (context.callerHooks.changeRequests) {
    for (const [name, value] of Object.entries(call.fixedHeaders)) {
      if (request.headers.get(name) !== value) request.headers.set(name, value);
    }
  }
  // Signed per attempt (a fresh timestamp each time), over the very bytes sent.
  const sign = context.prepare().sign;
  if (sign) for (const [name, value] of Object.entries(await sign(call.body))) request.headers.set(name, value);
  const slot = call.slot;
  const attempt = (call.attempts += 1);
  call.url = request.url;
  call.sent = true;
  call.waiting = false;
  call.answer = undefined;
  call.attemptTimeoutMs = Math.max(1, Math.round(Math.min(call.timeoutMs, call.deadline - performance.now())));
  const base = { provider, method: 'POST' as const, url: request.url, attempt, idempotencyKey: call.request.idempotencyKey };
  const started = performance.now();
  if (observed) {
    const sent = { ...base, headers: redactHeaders(request.headers, context.redact), body: call.request.body };
    notify('onRequest', onRequest, sent, logger);
    log(logger, 'debug', `clawback: POST ${request.url} (attempt ${attempt})`, sent);
  }
  const report = (response: Response | undefined, failure?: 'timeout' | 'aborted' | 'connection') => {
    if (!observed) return;
    const received = {
      ...base,
      status: response?.status,
      headers: response ? redactHeaders(response.headers, context.redact) : {},
      durationMs: Math.round((performance.now() - started) * 10) / 10,
      ...(failure ? { failure } : {}),
    };
    notify('onResponse', onResponse, received, logger);
    log(logger, 'debug', `clawback: ${response ? response.status : failure} from POST ${request.url} in ${received.durationMs} ms`, received);
  };
  try {
    // See `sendsBody`: the URL, headers and signal of ky's Request with the body clawback
    // serialised, or (with a caller's ky instance) the Request ky built, as it is.
    const sent = context.sendsBody
      ? baseFetch(request.url, { ...init, method: 'POST', headers: request.headers, body: call.body, signal: request.signal, redirect: 'manual' })
      : baseFetch(request, init);
    const response = await toResponse(await sent);
    const { text, oversized } = await readCapped(response);
    const answer = answerOf(context, response, text, oversized);
    if (attempt === call.attempts) call.answer = answer;
    report(response);
    // The body is read. A caller's afterResponse hook (or download progress) reads the
    // response again, so it gets a fresh one holding what was read; a status a Response
    // cannot be built with (an opaque redirect's 0) keeps the original.
    const handed =
      context.callerHooks.readResponses && response.status >= 200 && response.status <= 599
        ? responseOf(response.status, answer.text, response.headers, response.statusText)
        : response;
    context.answers.set(handed, answer);
    return handed;
  } catch (error) {
    report(undefined, call.signal?.aborted ? 'aborted' : isAbortError(error) ? 'timeout' : 'connection');
    throw error;
  } finally {
    releaseSlot(call, slot);
  }
}
