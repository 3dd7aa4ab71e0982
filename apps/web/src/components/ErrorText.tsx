import { describeError } from '../lib/describeError.ts';

/** A server or network error as readable text (`role="alert"`), or nothing when there is none. */
export function ErrorText(props: { error: unknown; prefix?: string }) {
  if (props.error === null || props.error === undefined) return null;
  const { message } = describeError(props.error);
  return (
    <div className="error-text" role="alert">
      {props.prefix === undefined ? message : `${props.prefix}: ${message}`}
    </div>
  );
}
