import type OpenAI from 'openai';
import type { ChatCompletionFunctionTool, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { createThoughtBuffer } from '../lib/createThoughtBuffer.ts';
import { modelFailure, toModelFailure } from './toModelFailure.ts';

/** One tool call as the model streamed it, its arguments still JSON text. */
export interface StreamedToolCall {
  id: string;
  name: string;
  arguments: string;
}

/** What one model turn produced. */
export interface ModelTurn {
  text: string;
  toolCalls: StreamedToolCall[];
  finishReason: string | null;
}

/**
 * Streams one Chat Completions turn: text deltas go to `think` (coalesced into sentences), tool-call
 * deltas are accumulated by `index` (ids and names arrive first, arguments in pieces). The request is
 * aborted when the run's `signal` aborts (rethrowing its reason) or after `timeoutMs` for the whole
 * turn, headers and body alike; every other failure becomes an `AGENT_FAILED` error naming its cause.
 */
export async function streamTurn(opts: {
  client: OpenAI;
  model: string;
  messages: readonly ChatCompletionMessageParam[];
  tools: readonly ChatCompletionFunctionTool[];
  signal: AbortSignal;
  timeoutMs: number;
  think: (text: string) => void;
  failure: { baseURL: string; apiKey: string };
}): Promise<ModelTurn> {
  const timer = new AbortController();
  // The client's own timeout stops at the response headers; this one also covers a stalled body.
  const timeout = setTimeout(() => timer.abort(new Error('model turn timed out')), opts.timeoutMs);
  const signal = AbortSignal.any([opts.signal, timer.signal]);
  const thoughts = createThoughtBuffer(opts.think);
  const calls = new Map<number, StreamedToolCall>();
  let text = '';
  let finishReason: string | null = null;
  try {
    const stream = await opts.client.chat.completions.create(
      {
        model: opts.model,
        messages: [...opts.messages],
        stream: true,
        ...(opts.tools.length > 0 ? { tools: [...opts.tools] } : {}),
      },
      { signal, timeout: opts.timeoutMs },
    );
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice === undefined) continue;
      const content = choice.delta.content;
      if (typeof content === 'string' && content.length > 0) {
        text += content;
        thoughts.push(content);
      }
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { id: '', name: '', arguments: '' };
        if (delta.id) call.id = delta.id;
        if (delta.function?.name) call.name += delta.function.name;
        if (delta.function?.arguments) call.arguments += delta.function.arguments;
        calls.set(delta.index, call);
      }
      if (choice.finish_reason) finishReason = choice.finish_reason;
    }
    // The client's stream ends quietly, as if complete, when its signal aborts: tell the cases apart.
    if (opts.signal.aborted || timer.signal.aborted) throw timer.signal.reason;
    if (finishReason === null) {
      throw modelFailure(
        'stream',
        `the stream from the model server at ${opts.failure.baseURL} ended without a finish_reason`,
      );
    }
  } catch (error) {
    if (opts.signal.aborted) throw opts.signal.reason;
    thoughts.flush();
    throw toModelFailure(error, {
      ...opts.failure,
      model: opts.model,
      timeoutMs: opts.timeoutMs,
      timedOut: timer.signal.aborted,
    });
  } finally {
    clearTimeout(timeout);
  }
  thoughts.flush();
  const toolCalls = [...calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
  return { text, toolCalls, finishReason };
}
