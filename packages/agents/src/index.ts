export { adminAgent, adminAgentInput } from './agents/admin.ts';
export { calculatorAgent, calculatorAgentInput } from './agents/calculator.ts';
export { delegateAgent, delegateInput } from './agents/delegate.ts';
export { flakyAgent, flakyAgentInput } from './agents/flaky.ts';
export type { OpenAIAgentConfig } from './agents/openaiAgent.ts';
export { createOpenAIAgent, openAIAgentInput } from './agents/openaiAgent.ts';
export { parallelAgent, parallelInput } from './agents/parallel.ts';
export { payoutAgent, payoutInput } from './agents/payout.ts';
export { RESEARCH_NOTE_KEY, researchAgent, researchInput } from './agents/research.ts';
export { slowAgent, slowAgentInput } from './agents/slow.ts';
export type { CorpusDocument } from './corpus/toolrunDocs.ts';
export { TOOLRUN_DOCS } from './corpus/toolrunDocs.ts';
export { BUILTIN_TOOL_NAMES, createBuiltinTools } from './createBuiltinTools.ts';
export { createDemoAgents, DEMO_AGENT_NAMES } from './createDemoAgents.ts';
export { createInMemoryScratchpad } from './createInMemoryScratchpad.ts';
export type { ExpressionErrorCode } from './lib/ExpressionError.ts';
export { EXPRESSION_ERROR_CODES, ExpressionError } from './lib/ExpressionError.ts';
export { evaluateExpression } from './lib/evaluateExpression.ts';
export type { ModelFailureReason } from './openai/toModelFailure.ts';
export type { OpenAIToolSpec } from './openai/toolSpecsOf.ts';
export { toolSpecsOf } from './openai/toolSpecsOf.ts';
export type { ActiveRunInfo, BuiltinToolPorts, HistoryPurge, RunControl, ScratchpadStore } from './ports.ts';
export { calculatorInput, calculatorTool } from './tools/calculator.ts';
export { cancelRunInput, createCancelRunTool } from './tools/cancelRun.ts';
export { flakyInput, flakyTool } from './tools/flaky.ts';
export { createListActiveRunsTool, listActiveRunsInput } from './tools/listActiveRuns.ts';
export { createPurgeHistoryTool, purgeHistoryInput } from './tools/purgeHistory.ts';
export {
  createScratchpadTool,
  MAX_SCRATCHPAD_KEYS,
  MAX_SCRATCHPAD_VALUE_BYTES,
  scratchpadInput,
} from './tools/scratchpad.ts';
export type { SearchHit } from './tools/search.ts';
export { createSearchTool, searchInput } from './tools/search.ts';
export { MAX_SLOW_TASK_MS, slowTaskInput, slowTaskTool } from './tools/slowTask.ts';
export {
  createTransferFundsTool,
  MAX_RECORDED_TRANSFERS,
  TRANSFERS_KEY,
  transferFundsInput,
} from './tools/transferFunds.ts';
