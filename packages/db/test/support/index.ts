export type { TestPostgres } from './startPostgres.ts';
export { startPostgres } from './startPostgres.ts';
