/** A small spinner that also tells assistive technology what is in progress. */
export function Spinner(props: { label: string }) {
  return <span className="spinner" role="status" aria-label={props.label} />;
}
