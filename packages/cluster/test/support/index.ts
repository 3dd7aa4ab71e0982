export type { TestRedis } from './startRedis.ts';
export { startRedis } from './startRedis.ts';
export { silentLogger, useTestRedis } from './useTestRedis.ts';
