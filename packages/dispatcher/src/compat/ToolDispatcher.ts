import type { DispatcherFactory } from '../factory.ts';
import type { RequestScopedToolDispatcher } from '../scopedDispatcher.ts';
import { type LegacyContextInput, legacyForRequest } from './legacyEntryPoint.ts';

/** The old `ToolDispatcher` entry point. */
export const ToolDispatcher = Object.freeze({
  /**
   * @deprecated Use `factory.forRequest(context)`. Warns once (`TOOLRUN_DEP001`), counts the call
   * and returns exactly what `factory.forRequest` returns.
   */
  createRequestScoped(factory: DispatcherFactory, context: LegacyContextInput): RequestScopedToolDispatcher {
    return legacyForRequest('ToolDispatcher.createRequestScoped', factory, context);
  },
});
