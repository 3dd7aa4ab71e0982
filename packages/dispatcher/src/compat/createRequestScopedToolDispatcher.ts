import type { DispatcherFactory } from '../factory.ts';
import type { RequestScopedToolDispatcher } from '../scopedDispatcher.ts';
import { type LegacyContextInput, legacyForRequest } from './legacyEntryPoint.ts';

/**
 * @deprecated Use `factory.forRequest(context)`. Warns once (`TOOLRUN_DEP002`), counts the call
 * and returns exactly what `factory.forRequest` returns.
 */
export function createRequestScopedToolDispatcher(
  factory: DispatcherFactory,
  context: LegacyContextInput,
): RequestScopedToolDispatcher {
  return legacyForRequest('createRequestScopedToolDispatcher', factory, context);
}
