import { jsonPretty, jsonPreview } from '../lib/format.ts';

/** One line of JSON that expands (keyboard accessible `<details>`) into the pretty form. */
export function JsonPreview(props: { value: unknown; label?: string; max?: number }) {
  const line = jsonPreview(props.value, props.max ?? 140);
  const pretty = jsonPretty(props.value);
  if (pretty.length <= (props.max ?? 140) && !pretty.includes('\n')) {
    return (
      <span className="json">
        {props.label !== undefined && <span className="muted">{props.label} </span>}
        {line}
      </span>
    );
  }
  return (
    <details className="json">
      <summary>
        {props.label !== undefined && <span className="muted">{props.label} </span>}
        {line}
      </summary>
      <pre>{pretty}</pre>
    </details>
  );
}
