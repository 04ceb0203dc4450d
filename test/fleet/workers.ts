// Child processes running test/fleet/worker.ts: bundled once (clawback from src/, its
// dependencies from node_modules), each started with a job, released together with go(), and
// read for its outcome, or killed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { WorkerJob } from './worker.js';

export type { WorkerJob };

export interface WorkerOutcome {
  ok: boolean;
  duplicate?: boolean;
  name?: string;
  ambiguous?: boolean;
  retryable?: boolean;
  message?: string;
}

export interface Worker {
  /** Resolves once it is connected to the ledger and waiting for go(). */
  ready: Promise<void>;
  go(): void;
  outcome: Promise<WorkerOutcome>;
  child: ChildProcess;
}

/**
 * Bundles `entry` (a path in the repository at `root`) into a folder under node_modules/.cache
 * (inside the repository, so its imports of ioredis and pg resolve to node_modules); call the
 * returned `remove` when done. Also used by the fleet campaign (scripts/chaos-fleet.ts).
 */
export async function bundleWorker(root: string, entry: string): Promise<{ file: string; remove: () => void }> {
  const cache = join(root, 'node_modules/.cache');
  mkdirSync(cache, { recursive: true });
  const dir = mkdtempSync(join(cache, 'clawback-fleet-worker-'));
  const file = join(dir, 'worker.mjs');
  await build({
    entryPoints: [join(root, entry)],
    outfile: file,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    tsconfig: join(root, 'tsconfig.json'),
    // From node_modules, as a merchant's app loads them (found from the repository's folder).
    external: ['ioredis', 'pg', 'ky', 'zod', 'zod/*', '@noble/hashes', '@noble/hashes/*'],
    logLevel: 'warning',
  });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Bundles test/fleet/worker.ts (see `bundleWorker`). */
export function compileWorker(): Promise<{ file: string; remove: () => void }> {
  return bundleWorker(fileURLToPath(new URL('../../', import.meta.url)), 'test/fleet/worker.ts');
}

export function startWorker(file: string, job: WorkerJob): Worker {
  const child = spawn(process.execPath, [file, JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let printed = '';
  let errors = '';
  child.stderr?.on('data', (chunk) => (errors += chunk));
  const lines: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  child.stdout?.on('data', (chunk) => {
    printed += chunk;
    const parts = printed.split('\n');
    printed = parts.pop() ?? '';
    for (const line of parts) {
      const next = waiting.shift();
      if (next) next(line);
      else lines.push(line);
    }
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const line = lines.shift();
      if (line !== undefined) return resolve(line);
      waiting.push(resolve);
      void exited.then((code) => reject(new Error(`worker exited (${code}) before answering:\n${errors}`)));
    });
  const ready = nextLine().then((line) => {
    if (line !== 'ready') throw new Error(`worker said ${line}:\n${errors}`);
  });
  return {
    ready,
    go: () => child.stdin?.end('go\n'),
    outcome: ready.then(nextLine).then((line) => JSON.parse(line) as WorkerOutcome),
    child,
  };
}
