/**
 * Reading a vendor's answer without trusting it. ky reads bodies whole (`.json()`, `.text()`)
 * or, for `HTTPError.data`, up to 10 MiB; a refund answer is a few kilobytes, and a hostile or
 * broken server can send far more, or a small gzip that inflates to hundreds of megabytes
 * (`Content-Length` counts the compressed bytes). So clawback reads the body itself, counting
 * the bytes after decoding as they stream, and stops at `MAX_RESPONSE_BYTES`.
 */

/** Response bodies are read up to this size, counted after decompression. */
export const MAX_RESPONSE_BYTES = 1_048_576;

/** The body as UTF-8 text (JSON is UTF-8, RFC 8259 §8.1), stopped past `limit` decoded bytes. */
export async function readCapped(response: Response, limit = MAX_RESPONSE_BYTES): Promise<{ text: string; oversized: boolean }> {
  if (!response.body) return { text: '', oversized: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { text: text + decoder.decode(), oversized: false };
    size += value.byteLength;
    if (size > limit) {
      // Not awaited: a body that never ends would keep the cancel pending too.
      reader.cancel().catch(() => undefined);
      return { text: text + decoder.decode(value.subarray(0, Math.max(0, value.byteLength - (size - limit)))), oversized: true };
    }
    text += decoder.decode(value, { stream: true });
  }
}

/** What a custom `fetch` may return: a real `Response`, or the `{ ok, status, headers, json() }` the vendors' own test suites mock. */
export interface ResponseLike {
  status: number;
  ok?: boolean;
  statusText?: string;
  headers?: Headers | Record<string, string> | Iterable<[string, string]>;
  text?: () => Promise<string>;
  json?: () => Promise<unknown>;
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** A Fetch `Response` with this status and text (no body where HTTP allows none). */
export function responseOf(status: number, text: string, headers: HeadersInit, statusText = ''): Response {
  return new Response(NULL_BODY_STATUSES.has(status) || text === '' ? null : text, { status, statusText, headers });
}

/**
 * A real `Response` for whatever a custom `fetch` returned. The body of a Response-like object
 * is read through its `text()` or `json()`; anything without a numeric `status` is refused.
 */
export async function toResponse(value: unknown): Promise<Response> {
  if (value instanceof Response) return value;
  const like = value as ResponseLike | null;
  if (typeof like !== 'object' || like === null || typeof like.status !== 'number') {
    throw new TypeError('the fetch function resolved to something that is not a Response (no numeric status)');
  }
  const text = like.text ? await like.text() : like.json ? JSON.stringify(await like.json()) : '';
  const headers = new Headers(like.headers instanceof Headers ? like.headers : (like.headers as HeadersInit | undefined));
  if (like.json && !like.text && text !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  return responseOf(like.status, text ?? '', headers, like.statusText);
}
