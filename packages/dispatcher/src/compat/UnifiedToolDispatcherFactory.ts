import type { DispatcherFactory } from '../factory.ts';
import type { RequestScopedToolDispatcher } from '../scopedDispatcher.ts';
import { type LegacyContextInput, legacyForRequest } from './legacyEntryPoint.ts';

/** The old `UnifiedToolDispatcherFactory` entry point. */
export const UnifiedToolDispatcherFactory = Object.freeze({
  /**
   * @deprecated Use `factory.forRequest(context)`. Warns once (`TOOLRUN_DEP004`), counts the call
   * and returns exactly what `factory.forRequest` returns.
   */
  createForRequest(factory: DispatcherFactory, context: LegacyContextInput): RequestScopedToolDispatcher {
    return legacyForRequest('UnifiedToolDispatcherFactory.createForRequest', factory, context);
  },
});
