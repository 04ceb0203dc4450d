// The fleet tests' real servers: one redis-server and one PostgreSQL cluster for the whole run,
// each on a free loopback port in a temporary folder, stopped (and the folder removed) at the end.
// Each test file keeps to its own keys (a Redis prefix, a PostgreSQL table).
import type { TestProject } from 'vitest/node';
import { startPostgres, startRedis } from '../support/servers.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    postgresUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const [redis, postgres] = await Promise.all([startRedis(), startPostgres()]);
  project.provide('redisUrl', redis.url);
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await Promise.all([redis.stop(), postgres.stop()]);
  };
}
