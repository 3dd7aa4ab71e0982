/** One problem with an input, as `BAD_REQUEST` errors carry it in `data.issues`. */
export interface InputIssue {
  /** Dotted path into the input (`input.items.0.name`); empty for the input itself. */
  path: string;
  message: string;
  code?: string;
}

/**
 * Turns zod issues, standard-schema issues or a dispatcher's `INVALID_INPUT` details into plain
 * {@link InputIssue}s; `undefined` when `value` holds none.
 */
export function formatIssues(value: unknown): InputIssue[] | undefined {
  const list = Array.isArray(value) ? value : hasIssues(value) ? value.issues : undefined;
  if (list === undefined) return undefined;
  const issues: InputIssue[] = [];
  for (const item of list.slice(0, 50)) {
    if (item === null || typeof item !== 'object') continue;
    const message = 'message' in item && typeof item.message === 'string' ? item.message : 'invalid';
    const rawPath = 'path' in item && Array.isArray(item.path) ? item.path : [];
    const path = rawPath
      .map((p: unknown) => (p !== null && typeof p === 'object' && 'key' in p ? String(p.key) : String(p)))
      .join('.');
    const issue: InputIssue = { path, message };
    if ('code' in item && typeof item.code === 'string') issue.code = item.code;
    issues.push(issue);
  }
  return issues.length > 0 ? issues : undefined;
}

/** One line a person can read: `agent: Required; input.n: Too big`. */
export function issuesMessage(issues: readonly InputIssue[]): string {
  return issues.map((i) => `${i.path === '' ? '(input)' : i.path}: ${i.message}`).join('; ');
}

function hasIssues(value: unknown): value is { issues: unknown[] } {
  return value !== null && typeof value === 'object' && 'issues' in value && Array.isArray(value.issues);
}
