/**
 * `@toolrun/dispatcher/compat`: the entry points of the dispatchers Toolrun replaces, kept as thin
 * facades over the one factory so that old call sites keep working while they migrate. Each warns
 * once per process (`DeprecationWarning`, its own `TOOLRUN_DEP00n` code), counts the call
 * (`legacyCall` metric) and delegates to `factory.forRequest`: same scope, same events, same isolation.
 */
export { createRequestScopedToolDispatcher } from './createRequestScopedToolDispatcher.ts';
export { enhanceToolDispatcherWithNotifications } from './enhanceToolDispatcherWithNotifications.ts';
export type { LegacyContextInput, LegacyEntryPoint } from './legacyEntryPoint.ts';
export { LEGACY_ENTRY_POINTS } from './legacyEntryPoint.ts';
export { ToolDispatcher } from './ToolDispatcher.ts';
export { ToolExecutorFactory } from './ToolExecutorFactory.ts';
export { UnifiedToolDispatcherFactory } from './UnifiedToolDispatcherFactory.ts';
