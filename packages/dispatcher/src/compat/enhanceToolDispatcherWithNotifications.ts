import { DispatchError } from '../errors.ts';
import { isScope, type RequestScopedToolDispatcher, SCOPE_INTERNALS } from '../scopedDispatcher.ts';
import { noteLegacyCall } from './legacyEntryPoint.ts';

/**
 * @deprecated Every scope already emits the five events to the factory's sink; there is nothing
 * to add. Warns once (`TOOLRUN_DEP005`), counts the call and returns the same scope. Any
 * notifier argument the old signature took is ignored: events reach clients through the event hub.
 */
export function enhanceToolDispatcherWithNotifications(
  dispatcher: RequestScopedToolDispatcher,
  _notifier?: unknown,
): RequestScopedToolDispatcher {
  if (!isScope(dispatcher)) {
    throw new DispatchError(
      'INVALID_SCOPE',
      'enhanceToolDispatcherWithNotifications needs a scope from factory.forRequest',
    );
  }
  noteLegacyCall('enhanceToolDispatcherWithNotifications', dispatcher[SCOPE_INTERNALS].core);
  return dispatcher;
}
