export interface RunningServer {
  url: string;
  port: number;
  /** Stops the server for `ms`, then starts it again, keeping its data. */
  outage(ms: number): Promise<void>;
  restart(): Promise<void>;
  down(signal?: NodeJS.Signals): Promise<void>;
  up(): Promise<void>;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}
export function ensureServerPackages(): void;
export function freePort(): Promise<number>;
export function startRedis(options?: { appendonly?: boolean }): Promise<RunningServer>;
export function startPostgres(): Promise<RunningServer>;
