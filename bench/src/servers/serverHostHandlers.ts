import { rmSync } from 'node:fs';
import type { RunningServer } from '@toolrun/server';
import { type HostHandlers, waitUntil } from './hostRuntime.ts';
import type { StreamUser } from './protocol.ts';

/**
 * The requests every host running a Toolrun server answers the same way: tokens for users, cleanup
 * after a scenario (cancel what still runs, commit, wait for the subscriptions to close), its open
 * subscriptions, and closing the server and removing its temp folder `dir`.
 */
export function serverHostHandlers(
  server: RunningServer,
  dir: string,
): Pick<HostHandlers, 'tokens' | 'cleanup' | 'subscriptions' | 'close'> {
  const { services } = server;
  const subscriptions = () => services.subscriptions().runs + services.subscriptions().feeds;
  return {
    async tokens(request) {
      const users: StreamUser[] = [];
      for (let i = 0; i < request.users; i += 1) {
        const userId = `${request.prefix}${i}`;
        users.push({ userId, token: (await services.auth.issue({ userId, roles: ['user'] })).token, runId: '' });
      }
      return { type: 'tokens', id: request.id, users };
    },
    async cleanup(request) {
      for (const run of services.factory.activeRuns()) services.factory.cancelRun(run.runId, 'bench scenario over');
      await waitUntil(() => services.factory.activeRuns().length === 0, 10_000);
      await services.sink.flush();
      await waitUntil(() => subscriptions() === 0, 5_000);
      return { type: 'cleaned', id: request.id, activeRuns: services.factory.activeRuns().length };
    },
    subscriptions,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
