/** Thrown when the MCP configuration, or what its servers offer at start, is unusable: every problem, one per line. */
export class McpConfigError extends Error {
  override readonly name = 'McpConfigError';
  readonly problems: readonly string[];

  constructor(what: string, problems: readonly string[]) {
    super(`${what}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.problems = problems;
  }
}
