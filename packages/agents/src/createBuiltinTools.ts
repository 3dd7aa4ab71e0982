import type { AnyTool } from '@toolrun/dispatcher';
import type { BuiltinToolPorts } from './ports.ts';
import { calculatorTool } from './tools/calculator.ts';
import { createCancelRunTool } from './tools/cancelRun.ts';
import { flakyTool } from './tools/flaky.ts';
import { createListActiveRunsTool } from './tools/listActiveRuns.ts';
import { createPurgeHistoryTool } from './tools/purgeHistory.ts';
import { createScratchpadTool } from './tools/scratchpad.ts';
import { createSearchTool } from './tools/search.ts';
import { slowTaskTool } from './tools/slowTask.ts';
import { createTransferFundsTool } from './tools/transferFunds.ts';

/** The names of the built-in tools, as the demo agents call them. */
export const BUILTIN_TOOL_NAMES = [
  'calculator',
  'search',
  'scratchpad',
  'slow_task',
  'flaky',
  'list_active_runs',
  'cancel_run',
  'purge_history',
  'transfer_funds',
] as const;

/**
 * Every built-in tool, wired to its ports: `calculator`, `search`, `scratchpad`, `slow_task`, `flaky`
 * (access `user`) and `list_active_runs`, `cancel_run`, `purge_history` (access `admin`), and
 * `transfer_funds` (access `user`; every call waits for the run owner's approval).
 *
 * The factory that provides run control is created from these tools, so wire it lazily:
 *
 * @example
 * let factory: DispatcherFactory | undefined;
 * const tools = createBuiltinTools({
 *   scratchpad: db.scratchpad,
 *   history: db,
 *   runControl: {
 *     activeRuns: () => factory?.activeRuns() ?? [],
 *     cancelRun: (runId, reason) => factory?.cancelRun(runId, reason) ?? false,
 *   },
 * });
 * factory = createDispatcherFactory({ tools, agents: createDemoAgents(), sink });
 */
export function createBuiltinTools(ports: BuiltinToolPorts): AnyTool[] {
  return [
    calculatorTool,
    createSearchTool(),
    createScratchpadTool(ports.scratchpad),
    slowTaskTool,
    flakyTool,
    createListActiveRunsTool(ports.runControl),
    createCancelRunTool(ports.runControl),
    createPurgeHistoryTool(ports.history),
    createTransferFundsTool(ports.scratchpad),
  ];
}
