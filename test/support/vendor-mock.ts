import { createServer } from 'node:net';
import { HttpResponse, http, passthrough, type JsonBodyType } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll } from 'vitest';

/** One request as it reached the (mocked) vendor. */
export interface CapturedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** Parsed JSON body (undefined when empty). */
  body: unknown;
  rawBody: string;
}

export const server = setupServer();

/** Starts msw for the calling test file; any request without a handler fails the test. */
export function useVendorMock(): void {
  beforeAll(() => server.listen({ onUnhandledFrame: 'error' }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
}

export type Reply = () => Response | Promise<Response>;

/**
 * Answers POSTs to `url` with `replies` in order, one per attempt (the last repeats), and
 * records each request.
 */
export function mockPost(url: string, ...replies: Reply[]): CapturedRequest[] {
  const captured: CapturedRequest[] = [];
  server.use(
    http.post(url, async ({ request }) => {
      const rawBody = await request.text();
      captured.push({
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers.entries()),
        body: rawBody ? JSON.parse(rawBody) : undefined,
        rawBody,
      });
      const reply = replies[Math.min(captured.length, replies.length) - 1];
      if (!reply) throw new Error(`mockPost(${url}) has no reply`);
      return reply();
    }),
  );
  return captured;
}

export const json =
  (body: JsonBodyType, status = 200, headers: Record<string, string> = {}): Reply =>
  () =>
    HttpResponse.json(body, { status, headers });

export const text =
  (body: string, status: number, headers: Record<string, string> = {}): Reply =>
  () =>
    new HttpResponse(body, { status, headers });

export const empty =
  (status: number, headers: Record<string, string> = {}): Reply =>
  () =>
    new HttpResponse(null, { status, headers });

/** A reply that never arrives within a short timeout. */
export const hang =
  (ms = 2_000): Reply =>
  () =>
    new Promise((resolve) => setTimeout(() => resolve(HttpResponse.json({ late: true })), ms));

/** A network-level failure (msw's `HttpResponse.error()`): no status, no body. */
export const networkError = (): Reply => () => HttpResponse.error();

/**
 * A loopback base URL where nothing listens, so connections are refused before anything is
 * sent; msw lets requests to it through to the real network.
 */
export async function refusingBaseURL(): Promise<string> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return letThrough(`http://127.0.0.1:${port}`);
}

/** Lets POSTs under `baseURL` reach the real network (a loopback server) past msw; returns `baseURL`. */
export function letThrough(baseURL: string): string {
  server.use(http.post(`${baseURL}/*`, () => passthrough()));
  return baseURL;
}
