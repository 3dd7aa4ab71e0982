export type { ServerEnv } from './env.ts';
export { DEFAULT_CONSOLE_DIR, EnvError, REPO_ROOT, readEnv } from './env.ts';
export type { HttpServer, HttpServerOptions } from './http.ts';
export { createHttpServer, TRPC_PATH } from './http.ts';
export type { PrometheusMetrics } from './prometheus.ts';
export { createPrometheusMetrics } from './prometheus.ts';
export type { SseMode } from './sseSubscriptions.ts';
export type { RunningServer, StartServerOptions } from './startServer.ts';
export { startServer } from './startServer.ts';
