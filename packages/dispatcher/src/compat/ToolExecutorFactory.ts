import type { DispatcherFactory } from '../factory.ts';
import type { RequestScopedToolDispatcher } from '../scopedDispatcher.ts';
import { type LegacyContextInput, legacyForRequest } from './legacyEntryPoint.ts';

/** The old `ToolExecutorFactory` entry point. */
export const ToolExecutorFactory = Object.freeze({
  /**
   * @deprecated Use `factory.forRequest(context)`. Warns once (`TOOLRUN_DEP003`), counts the call
   * and returns exactly what `factory.forRequest` returns.
   */
  create(factory: DispatcherFactory, context: LegacyContextInput): RequestScopedToolDispatcher {
    return legacyForRequest('ToolExecutorFactory.create', factory, context);
  },
});
