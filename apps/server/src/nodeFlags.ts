/**
 * Node flags the server is started with (`pnpm start`: `scripts/start.mjs` and the server's own
 * `start` script; the transport benchmark's Toolrun host too), kept in step by `nodeFlags.test.ts`.
 *
 * `--max-semi-space-size=32` (MB; Node 20's default is 16): each live event's objects (the event,
 * its row's JSON, its message) live from emit to delivery, across a commit on the writer thread, so
 * under load many survive a scavenge of a small young generation and are copied, then promoted. With
 * twice the room, scavenges came half as often at 1,000 users in the same-run trial of issue 21
 * (`bench/src/benchmarks/transportGc.ts`: 2.5–5 pauses per scenario instead of 4.5–9, with p99 at
 * 2,000 events/s no worse; each pause is longer, the total time in GC about the same), for at most
 * 32 MB more young generation under load (two semi-spaces; V8 grows them only when allocation asks
 * for it). 64 MB cut pauses further but costs twice the memory for a gain within this machine's noise. It must be given at process start: V8 sizes the heap before any code runs.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
