import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ErrorText } from '../../components/ErrorText.tsx';
import { jsonPretty } from '../../lib/format.ts';
import { schemaDefaults } from '../../lib/schemaDefaults.ts';
import { inputFromFields, type SchemaField, schemaFields } from '../../lib/schemaFields.ts';
import { useSession } from '../../lib/session.ts';
import { useTRPC } from '../../lib/trpc.ts';
import type { JsonValue, ToolInfo } from '../../lib/types.ts';
import { useLiveRuns } from '../../lib/useLiveRuns.ts';
import { RunCard } from '../live/RunCard.tsx';

/**
 * "Try it": a form built from the tool's input schema (one field per property; the whole input as
 * JSON when the schema has no properties) that runs the tool once with `tools.run`, as a one-call
 * run of the signed-in user, and shows that run's live timeline with the Live page's run card.
 */
export function TryToolForm(props: { tool: ToolInfo }) {
  const { tool } = props;
  const trpc = useTRPC();
  const { session } = useSession();
  const runs = useLiveRuns();
  const fields = schemaFields(tool.inputSchema);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const [json, setJson] = useState(() => jsonPretty(schemaDefaults(tool.inputSchema)));
  const [problem, setProblem] = useState<string | undefined>();
  const [runId, setRunId] = useState<string | undefined>();
  const run = useMutation(
    trpc.tools.run.mutationOptions({
      onSuccess: (started) => {
        session.liveRuns?.follow({ runId: started.runId, threadId: started.threadId, agent: tool.name });
        setRunId(started.runId);
      },
    }),
  );
  const followed = runs.find((r) => r.runId === runId);

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    let input: JsonValue;
    if (fields === undefined) {
      try {
        input = JSON.parse(json === '' ? 'null' : json) as JsonValue;
      } catch (error) {
        setProblem(`The input is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
    } else {
      const built = inputFromFields(fields, texts);
      if (!built.ok) {
        setProblem(built.message);
        return;
      }
      input = built.value;
    }
    setProblem(undefined);
    run.mutate({ tool: tool.name, input });
  };

  return (
    <div className="stack" data-testid="try-tool" data-tool={tool.name}>
      <form className="panel stack" onSubmit={onSubmit} aria-label={`Try ${tool.name}`}>
        <h3 style={{ margin: 0 }}>
          Try <span className="mono">{tool.name}</span>
        </h3>
        <p className="muted small" style={{ margin: 0 }}>
          Runs the tool once, without an agent, as a run of yours: it shows in your history like any run.
        </p>
        {fields === undefined ? (
          <label>
            Input (JSON)
            <textarea name="input" rows={6} value={json} onChange={(e) => setJson(e.target.value)} spellCheck={false} />
          </label>
        ) : (
          fields.map((field) => (
            <Field
              key={field.name}
              field={field}
              text={texts[field.name] ?? field.initial}
              onChange={(text) => setTexts((old) => ({ ...old, [field.name]: text }))}
            />
          ))
        )}
        <div className="row">
          <button type="submit" className="primary" disabled={run.isPending}>
            {run.isPending ? 'Starting…' : 'Run tool'}
          </button>
        </div>
        {problem !== undefined && (
          <div className="error-text" role="alert">
            {problem}
          </div>
        )}
        <ErrorText error={run.error} prefix="Run failed" />
      </form>
      {followed !== undefined && <RunCard run={followed} />}
    </div>
  );
}

function Field(props: { field: SchemaField; text: string; onChange: (text: string) => void }) {
  const { field, text, onChange } = props;
  const label = `${field.name}${field.required ? '' : ' (optional)'}`;
  const hint = field.description === undefined ? null : <span className="muted small">{field.description}</span>;
  switch (field.kind) {
    case 'boolean':
      return (
        <label className="row">
          <input
            type="checkbox"
            name={field.name}
            checked={text === 'true'}
            onChange={(e) => onChange(String(e.target.checked))}
          />
          {label} {hint}
        </label>
      );
    case 'enum':
      return (
        <label>
          {label} {hint}
          <select name={field.name} value={text} onChange={(e) => onChange(e.target.value)}>
            {field.required ? null : <option value="">(default)</option>}
            {field.options.map((o) => (
              <option key={o} value={o}>
                {o}
              </option>
            ))}
          </select>
        </label>
      );
    case 'number':
    case 'integer':
      return (
        <label>
          {label} {hint}
          <input
            type="number"
            name={field.name}
            step={field.kind === 'integer' ? 1 : 'any'}
            value={text}
            onChange={(e) => onChange(e.target.value)}
          />
        </label>
      );
    case 'string':
      return (
        <label>
          {label} {hint}
          <input name={field.name} value={text} onChange={(e) => onChange(e.target.value)} autoComplete="off" />
        </label>
      );
    case 'json':
      return (
        <label>
          {label} (JSON) {hint}
          <textarea
            name={field.name}
            rows={3}
            value={text}
            onChange={(e) => onChange(e.target.value)}
            spellCheck={false}
          />
        </label>
      );
    default: {
      const unreachable: never = field.kind;
      return unreachable;
    }
  }
}
