import { afterAll, beforeAll } from 'vitest';
import { startRedis, type TestRedis } from './startRedis.ts';

/** A logger that says nothing, for the cluster's parts under test. */
export const silentLogger = { info() {}, warn() {}, error() {}, child: () => silentLogger };

/**
 * One throwaway redis-server for the calling test file: started before its tests, stopped after them.
 * Read `server()` inside a test (it throws before `beforeAll` ran).
 *
 * @example
 * const redis = useTestRedis();
 * it('…', async () => {
 *   const conn = connectRedis({ url: redis.server().url, name: 'test', logger: silentLogger });
 * });
 */
export function useTestRedis(): { server(): TestRedis } {
  let server: TestRedis | undefined;
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    server() {
      if (server === undefined) throw new Error('the test redis-server is not started yet (beforeAll)');
      return server;
    },
  };
}
