import {
  type CreateUserExecutionContextInput,
  createUserExecutionContext,
  isUserExecutionContext,
  type UserExecutionContext,
} from '../context.ts';
import { DispatchError } from '../errors.ts';
import type { FactoryCore } from '../FactoryCore.ts';
import { coreOf, type DispatcherFactory } from '../factory.ts';
import type { RequestScopedToolDispatcher } from '../scopedDispatcher.ts';

/** The deprecated entry points, each with its own DeprecationWarning code. */
export const LEGACY_ENTRY_POINTS = {
  'ToolDispatcher.createRequestScoped': 'TOOLRUN_DEP001',
  createRequestScopedToolDispatcher: 'TOOLRUN_DEP002',
  'ToolExecutorFactory.create': 'TOOLRUN_DEP003',
  'UnifiedToolDispatcherFactory.createForRequest': 'TOOLRUN_DEP004',
  enhanceToolDispatcherWithNotifications: 'TOOLRUN_DEP005',
} as const;
export type LegacyEntryPoint = keyof typeof LEGACY_ENTRY_POINTS;

/** A context, or the fields legacy callers passed to build one (validated the same way). */
export type LegacyContextInput = UserExecutionContext | CreateUserExecutionContextInput;

const warned = new Set<LegacyEntryPoint>();

/** Warns once per process for `entryPoint` and counts the call on the factory's metrics. */
export function noteLegacyCall(entryPoint: LegacyEntryPoint, core: FactoryCore): void {
  core.legacyCall(entryPoint);
  if (warned.has(entryPoint)) return;
  warned.add(entryPoint);
  process.emitWarning(
    `${entryPoint} is deprecated: use createDispatcherFactory(...).forRequest(context) from @toolrun/dispatcher.`,
    { type: 'DeprecationWarning', code: LEGACY_ENTRY_POINTS[entryPoint] },
  );
}

/** The shared body of the scope-creating facades: count, warn, delegate to `factory.forRequest`. */
export function legacyForRequest(
  entryPoint: LegacyEntryPoint,
  factory: DispatcherFactory,
  context: LegacyContextInput,
): RequestScopedToolDispatcher {
  const core = coreOf(factory);
  if (!core) throw new DispatchError('INVALID_SCOPE', `${entryPoint} needs a factory from createDispatcherFactory`);
  noteLegacyCall(entryPoint, core);
  return factory.forRequest(isUserExecutionContext(context) ? context : createUserExecutionContext(context));
}
