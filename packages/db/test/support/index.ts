export { freePort } from './freePort.ts';
export type { TestPostgres } from './startPostgres.ts';
export { startPostgres } from './startPostgres.ts';
export type { TestPostgresFixture } from './useTestPostgres.ts';
export { useTestPostgres } from './useTestPostgres.ts';
export { waitUntil } from './waitUntil.ts';
