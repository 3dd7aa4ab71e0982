import { useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useEffect, useId, useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { jsonPretty } from '../../lib/format.ts';
import { schemaDefaults } from '../../lib/schemaDefaults.ts';
import { useSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { JsonValue } from '../../lib/types.ts';

function parseInput(text: string): { ok: true; value: JsonValue } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text === '' ? 'null' : text) as JsonValue };
  } catch (error) {
    return {
      ok: false,
      message: `The input is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
}

/**
 * Starts a run: an agent from `agents.list`, its input as JSON (prefilled from the agent's input
 * schema), and a thread (blank for a new one). The started run is followed live at once.
 */
export function StartRunForm(props: { recentThreads: readonly string[] }) {
  const trpc = useTRPC();
  const { session } = useSession();
  const agents = useQuery(trpc.agents.list.queryOptions());
  const [agentName, setAgentName] = useState('');
  const [input, setInput] = useState('');
  const [threadId, setThreadId] = useState('');
  const [parseError, setParseError] = useState<string | undefined>();
  const threadsId = useId();
  const start = useMutation(
    trpc.runs.start.mutationOptions({
      onSuccess: (started) =>
        session.liveRuns?.follow({ runId: started.runId, threadId: started.threadId, agent: agentName }),
    }),
  );

  const list = agents.data ?? [];
  const agent = list.find((a) => a.name === agentName);
  // Pick the first agent once the list arrives, and prefill its input.
  useEffect(() => {
    const first = list[0];
    if (agentName === '' && first !== undefined) {
      setAgentName(first.name);
      setInput(jsonPretty(schemaDefaults(first.inputSchema)));
    }
  }, [list, agentName]);

  const chooseAgent = (name: string) => {
    setAgentName(name);
    const chosen = list.find((a) => a.name === name);
    if (chosen !== undefined) setInput(jsonPretty(schemaDefaults(chosen.inputSchema)));
    setParseError(undefined);
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    const parsed = parseInput(input);
    if (!parsed.ok) {
      setParseError(parsed.message);
      return;
    }
    setParseError(undefined);
    const thread = threadId.trim();
    // One key per start: a start retried after a lost answer gets the same run, never a second one.
    const idempotencyKey = crypto.randomUUID();
    start.mutate(
      thread === ''
        ? { agent: agentName, input: parsed.value, idempotencyKey }
        : { agent: agentName, input: parsed.value, threadId: thread, idempotencyKey },
    );
  };

  return (
    <form className="panel stack" onSubmit={onSubmit} aria-labelledby="start-title" data-testid="start-form">
      <h3 id="start-title">Start a run</h3>
      <ErrorText error={agents.error} prefix="Could not load agents" />
      <label>
        Agent
        <select
          value={agentName}
          onChange={(e) => chooseAgent(e.target.value)}
          disabled={list.length === 0}
          name="agent"
        >
          {list.map((a) => (
            <option key={a.name} value={a.name}>
              {a.name}
              {a.access === 'admin' ? ' (admin)' : ''}
            </option>
          ))}
        </select>
      </label>
      {agent !== undefined && (
        <p className="muted small" style={{ margin: 0 }}>
          {agent.description}
        </p>
      )}
      <label>
        Input (JSON)
        <textarea
          name="input"
          rows={Math.min(14, Math.max(4, input.split('\n').length + 1))}
          value={input}
          onChange={(e) => setInput(e.target.value)}
          spellCheck={false}
          aria-invalid={parseError !== undefined}
        />
      </label>
      <label>
        Thread (blank for a new one)
        <input
          name="thread"
          list={threadsId}
          value={threadId}
          onChange={(e) => setThreadId(e.target.value)}
          autoComplete="off"
        />
        <datalist id={threadsId}>
          {props.recentThreads.map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
      </label>
      <div className="row">
        <button type="submit" className="primary" disabled={agent === undefined || start.isPending}>
          {start.isPending ? 'Starting…' : 'Start run'}
        </button>
        {agent !== undefined && (
          <button type="button" onClick={() => setInput(jsonPretty(schemaDefaults(agent.inputSchema)))}>
            Reset input
          </button>
        )}
      </div>
      {parseError !== undefined && (
        <div className="error-text" role="alert">
          {parseError}
        </div>
      )}
      <ErrorText error={start.error} prefix="Start failed" />
    </form>
  );
}
