import type { z } from 'zod';

/** A schema's issues on one line: `a.b: message; c: message`, at most ten of them. */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  const shown = issues.slice(0, 10).map((issue) => {
    const path = issue.path.map(String).join('.');
    return `${path === '' ? '(root)' : path}: ${issue.message}`;
  });
  return issues.length > 10 ? `${shown.join('; ')}; and ${issues.length - 10} more` : shown.join('; ');
}
