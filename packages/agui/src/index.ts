/**
 * `@toolrun/agui`: Toolrun's agents over AG-UI 1.0 (`POST /agui/<agent>`), and reattaching to a run
 * after a drop (`GET /agui/runs/<runId>`), beyond what AG-UI 1.0 offers.
 */
export type { AguiHandlerOptions } from './http/createAguiHandler.ts';
export { AGUI_PATH, createAguiHandler, DEFAULT_CANCEL_AFTER_CLOSE_MS } from './http/createAguiHandler.ts';
export { DEFAULT_STALLED_AFTER_MS } from './http/SseStream.ts';
export { agentInputFor } from './input/agentInputFor.ts';
export type { Refusal } from './input/readRunAgentInput.ts';
export { readRunAgentInput } from './input/readRunAgentInput.ts';
export type { ToolrunMetadata } from './mapping/AguiEventMapper.ts';
export { AguiEventMapper } from './mapping/AguiEventMapper.ts';
export { mapperAt } from './reattach/mapperAt.ts';
