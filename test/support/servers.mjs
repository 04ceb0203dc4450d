// Real Redis and PostgreSQL servers for the fleet tests, the chaos campaign's fleet mode, the
// benchmark and the examples: Debian's packages (redis-server, postgresql), each started on a free
// loopback port in a temporary folder of its own, and stopped (folder removed) afterwards.
// PostgreSQL refuses to run as root, so as root it runs as the `postgres` user. When a package is
// missing, it is installed with apt-get when running as root; otherwise this stops, naming the
// command to run. No mock stands in for either.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const isRoot = process.getuid?.() === 0;

/** The directory holding PostgreSQL's server programs (Debian: /usr/lib/postgresql/<major>/bin), if installed. */
function postgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin/initdb'))).sort((a, b) => Number(b) - Number(a));
  return majors[0] && join(root, majors[0], 'bin');
}

const which = (program) => spawnSync('sh', ['-c', `command -v ${program}`], { encoding: 'utf8' }).stdout.trim() || undefined;

/**
 * Makes sure redis-server and PostgreSQL's server programs are installed: installs the Debian
 * packages when running as root, and otherwise throws naming the command to run.
 */
export function ensureServerPackages() {
  const missing = [];
  if (!which('redis-server')) missing.push('redis-server');
  if (!postgresBin()) missing.push('postgresql');
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (!isRoot) {
    throw new Error(`The fleet tests need real ${missing.join(' and ')} servers, which are not installed. Install them with:\n  sudo sh -c '${command}'\nthen run the tests again.`);
  }
  console.log(`installing ${missing.join(', ')} (apt-get) for the fleet tests…`);
  execFileSync('sh', ['-c', command], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

/** A TCP port nobody listens on right now. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Resolves once something accepts connections on `port`, or rejects after `ms`. */
async function waitForPort(port, ms, what, output) {
  const until = Date.now() + ms;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > until) throw new Error(`${what} did not start on port ${port} within ${ms} ms:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Spawns a server process, keeping what it prints (for the error when it does not start). */
function launch(command, args, options = {}) {
  let printed = '';
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  child.stdout.on('data', (chunk) => (printed += chunk));
  child.stderr.on('data', (chunk) => (printed += chunk));
  return { child, output: () => printed.slice(-4_000) };
}

const exited = (child) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', resolve)));

/** What a started server offers its tests, given how to start (`up`) and stop (`down`) it. */
function controls(url, port, dir, up, down) {
  return {
    url,
    port,
    /** Stops the server for a while (`ms`), then starts it again. */
    async outage(ms) {
      await down();
      await new Promise((resolve) => setTimeout(resolve, ms));
      await up();
    },
    async restart() {
      await down();
      await up();
    },
    down,
    up,
    /** Ends the server and removes its folder. */
    async stop() {
      await down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A redis-server on a free loopback port, its data in a temporary folder. `appendonly` as a
 * ledger needs it in production (see docs/fleet.md). `stop()` ends it (and removes the folder);
 * `restart()` stops and starts it again on the same port, keeping its data, as an outage would.
 */
export async function startRedis({ appendonly = true } = {}) {
  ensureServerPackages();
  const dir = mkdtempSync(join(tmpdir(), 'clawback-redis-'));
  const port = await freePort();
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', appendonly ? 'yes' : 'no', '--appendfsync', 'everysec', '--protected-mode', 'no'];
  let server;
  const up = async () => {
    server = launch(which('redis-server'), args);
    await waitForPort(port, 15_000, 'redis-server', server.output);
  };
  const down = async (signal = 'SIGTERM') => {
    if (!server) return;
    const ended = exited(server.child);
    server.child.kill(signal);
    await ended;
    server = undefined;
  };
  await up();
  return controls(`redis://127.0.0.1:${port}`, port, dir, up, down);
}

/** Runs a PostgreSQL program as the `postgres` user when this process is root (PostgreSQL refuses root). */
function asPostgres(program, args) {
  return isRoot ? ['runuser', ['-u', 'postgres', '--', program, ...args]] : [program, args];
}

/**
 * A PostgreSQL cluster of its own (initdb) on a free loopback port, its data and socket in a
 * temporary folder, trusting local connections as `postgres`. Same controls as `startRedis`.
 */
export async function startPostgres() {
  ensureServerPackages();
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'clawback-postgres-'));
  const data = join(dir, 'data');
  if (isRoot) {
    chmodSync(dir, 0o755);
    chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  }
  const [initCommand, initArgs] = asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '--no-instructions', '-E', 'UTF8', '--locale', 'C']);
  const init = spawnSync(initCommand, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}${init.stderr}`);
  const port = await freePort();
  const settings = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=200'];
  let server;
  const up = async () => {
    const [command, args] = asPostgres(join(bin, 'postgres'), settings);
    server = launch(command, args);
    // The port opens before the server takes connections ("the database system is starting up").
    const until = Date.now() + 30_000;
    while (spawnSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres']).status !== 0) {
      if (Date.now() > until || server.child.exitCode !== null) throw new Error(`postgres did not start on port ${port}:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const down = async (signal = 'SIGINT') => {
    if (!server) return;
    const ended = exited(server.child);
    // The postmaster itself (runuser does not pass SIGINT on); SIGINT is its "fast shutdown",
    // SIGKILL a crash.
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, signal);
    await ended;
    server = undefined;
  };
  await up();
  return controls(`postgres://postgres@127.0.0.1:${port}/postgres`, port, dir, up, down);
}
