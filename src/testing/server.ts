import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { ProviderName } from '../spec/refund-provider-v1.js';
import { createEmulator, encodeBody, type ConversionSeeds, type Emulator, type EmulatorOptions, type EmulatorProviders } from './emulator.js';
import { VENDOR_ENDPOINTS } from './responses.js';
import type { WebhookDelivery } from './webhooks.js';
import type { Fault } from './faults.js';
import type { EmulatorCounts, Reply } from './vendors/shared.js';
import type { Ledger } from './ledger.js';

export interface StartEmulatorOptions extends EmulatorOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Serve this emulator (its options win over the ones above). */
  emulator?: Emulator;
}

/** What `startEmulator()` resolves to: the emulator served on loopback, and what to point providers at. */
export interface RunningEmulator {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Per vendor, `<url>/<vendor>`: pass it as the provider's `baseURL`. */
  baseURLs: Record<ProviderName, string>;
  /** Providers already pointed at this server, with the emulator's keys. */
  providers: EmulatorProviders;
  emulator: Emulator;
  ledger: Ledger;
  /** Adds a fault for the next matching requests (`emulator.inject`). */
  inject(fault: Fault): void;
  /** Adds conversions (`emulator.seed`). */
  seed(seeds: ConversionSeeds): void;
  /** Resolves when no request or webhook is being handled (`emulator.idle`). */
  idle(): Promise<void>;
  /** Per vendor: requests answered, and those refused by the emulator's own rate limit (`emulator.counts`). */
  readonly counts: EmulatorCounts;
  /** Webhooks sent, with the receiver's status (`emulator.webhookDeliveries`). */
  readonly webhookDeliveries: readonly WebhookDelivery[];
  /** Stops the server, drops open connections and waits for requests still being handled. */
  close(): Promise<void>;
}

/**
 * A 404 for a request that reached the emulator's root with a vendor's refund path (a provider
 * given `url` instead of `baseURLs.<vendor>` as its baseURL), in that vendor's error envelope, so
 * clawback's error says what to set.
 */
function misdirected(path: string, url: string): Reply | undefined {
  const vendor = (Object.entries(VENDOR_ENDPOINTS) as Array<[ProviderName, { path: string }]>).find(([, endpoint]) =>
    new RegExp(`^${endpoint.path.replace(/:[a-z]+/g, '[^/]+')}$`).test(path),
  )?.[0];
  if (!vendor) return undefined;
  const hint = `the emulator serves this vendor under /${vendor}: set baseURL to ${url}/${vendor} (running.baseURLs.${vendor}), not ${url}`;
  const bodies: Record<ProviderName, unknown> = {
    affixo: { error: 'not_found', detail: hint },
    affonso: { success: false, error: { code: 'NOT_FOUND', message: hint } },
    refcampaign: { success: false, error: { code: 'NOT_FOUND', message: hint }, meta: { timestamp: new Date().toISOString() } },
    firstpromoter: { message: hint, code: 'not_found' },
  };
  return { status: 404, body: bodies[vendor] };
}

const providerNames: readonly ProviderName[] = ['affixo', 'affonso', 'refcampaign', 'firstpromoter'];

async function toRequest(message: IncomingMessage, origin: string, path: string): Promise<Request> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  const headers = new Headers();
  for (const [name, value] of Object.entries(message.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const body = Buffer.concat(chunks);
  return new Request(`${origin}${path}`, {
    method: message.method ?? 'GET',
    headers,
    ...(body.length > 0 ? { body } : {}),
  });
}

function send(response: ServerResponse, reply: Reply): void {
  const { bytes, contentType } = encodeBody(reply.body);
  const body = bytes && reply.compress === 'gzip' ? gzipSync(bytes) : bytes;
  response.writeHead(reply.status, {
    ...(contentType ? { 'content-type': contentType } : {}),
    ...(reply.compress && bytes ? { 'content-encoding': reply.compress } : {}),
    'content-length': String(body?.byteLength ?? 0),
    ...reply.headers,
  });
  if (!body || !reply.trickle) {
    response.end(body ?? '');
    return;
  }
  const { bytes: size, every } = reply.trickle;
  let offset = 0;
  const timer = setInterval(() => {
    if (response.destroyed) return void clearInterval(timer);
    const piece = body.subarray(offset, (offset += size));
    if (offset >= body.byteLength) {
      clearInterval(timer);
      response.end(piece);
    } else response.write(piece);
  }, every);
  response.once('close', () => clearInterval(timer));
}

/**
 * Serves the emulator over real HTTP on loopback, each vendor under its own path prefix
 * (`/affonso/v1/conversions/{id}/refund`): for end-to-end tests, examples, benchmarks, and
 * faults msw cannot produce, such as a reset TCP connection.
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<RunningEmulator> {
  const emulator = options.emulator ?? createEmulator(options);
  let origin = '';
  const server = createServer(async (message, response) => {
    try {
      const url = new URL(message.url ?? '/', 'http://emulator');
      const [, prefix = '', ...rest] = url.pathname.split('/');
      const provider = providerNames.find((name) => name === prefix);
      if (!provider || message.method !== 'POST') {
        send(response, misdirected(url.pathname, origin) ?? { status: 404, body: { message: `No emulated endpoint at ${message.method} ${url.pathname}` } });
        return;
      }
      const request = await toRequest(message, 'http://emulator', `/${rest.join('/')}`);
      const outcome = await emulator.handle(provider, request);
      if ('reset' in outcome) {
        message.socket.resetAndDestroy();
        return;
      }
      send(response, outcome);
    } catch (error) {
      send(response, { status: 500, body: { message: `Emulator error: ${String(error)}` } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  origin = url;
  const baseURLs = Object.fromEntries(providerNames.map((name) => [name, `${url}/${name}`])) as Record<ProviderName, string>;
  return {
    url,
    baseURLs,
    providers: emulator.providers(baseURLs),
    emulator,
    ledger: emulator.ledger,
    inject: (fault) => emulator.inject(fault),
    seed: (seeds) => emulator.seed(seeds),
    idle: () => emulator.idle(),
    get counts() {
      return emulator.counts;
    },
    get webhookDeliveries() {
      return emulator.webhookDeliveries;
    },
    close: async () => {
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      await emulator.idle();
    },
  };
}
