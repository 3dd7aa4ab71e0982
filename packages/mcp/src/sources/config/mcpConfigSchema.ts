import { z } from 'zod';

/**
 * A source's name: the prefix of its tools' names (`<source>__<tool>`). It starts with a letter and
 * holds no `__` and no trailing `_`, so the first `__` of a tool's name always ends the source's:
 * two sources can never produce the same name.
 */
export const SOURCE_NAME_PATTERN = /^[A-Za-z](?:[A-Za-z0-9-]|_(?!_))*$/;
/** The longest source name, leaving room for the tool's own name within 64 characters. */
export const MAX_SOURCE_NAME = 32;

const milliseconds = (max: number) => z.number().int().min(1).max(max);

const toolSettings = z
  .object({
    /** Who may call the tool; the source's `access` (itself `user` by default) when absent. */
    access: z.enum(['user', 'admin']).optional(),
    timeoutMs: milliseconds(3_600_000).optional(),
    /** Input or output keys redacted from events, at any depth. */
    sensitive: z.array(z.string().min(1)).optional(),
  })
  .strict();

const common = {
  scope: z.enum(['shared', 'user']).default('shared'),
  access: z.enum(['user', 'admin']).default('user'),
  /** Per-call timeout of the source's tools, unless a tool has its own. */
  timeoutMs: milliseconds(3_600_000).default(30_000),
  /** How long connecting (and listing tools) may take before the source counts as down. */
  connectTimeoutMs: milliseconds(600_000).default(30_000),
  /** How often a connected shared source is pinged, so that a dead server is noticed between calls; 0: never. */
  pingIntervalMs: z.number().int().min(0).max(3_600_000).default(15_000),
  tools: z.record(z.string().min(1), toolSettings).default({}),
};

/** A Streamable HTTP source, as written. */
export const httpSourceSchema = z
  .object({
    url: z.url({ protocol: /^https?$/ }),
    /** Header values are templates: `${NAME}` is the environment variable's value. */
    headers: z.record(z.string().min(1), z.string()).default({}),
    ...common,
  })
  .strict();

/** A stdio source, as written. */
export const stdioSourceSchema = z
  .object({
    command: z.string().min(1),
    args: z.array(z.string()).default([]),
    /** Variables for the process (besides PATH, HOME and the like); values are templates like headers. */
    env: z.record(z.string().min(1), z.string()).default({}),
    /** Where the process runs, created when missing (mode 0700); relative to the configuration file's folder. */
    cwd: z.string().min(1).optional(),
    /** `scope: 'user'`: how long a user's process may sit idle before it is stopped. */
    idleTimeoutMs: milliseconds(86_400_000).default(300_000),
    /** `scope: 'user'`: the most processes at once; the least recently used idle one makes room. */
    maxProcesses: z.number().int().min(1).max(10_000).default(32),
    ...common,
  })
  .strict();

/** The file `TOOLRUN_MCP_CONFIG` names, as written; each source is checked by its own schema. */
export const mcpConfigFileSchema = z
  .object({
    $schema: z.string().optional(),
    sources: z.record(z.string(), z.record(z.string(), z.unknown(), { error: 'a source is an object' })),
  })
  .strict();

export type HttpSourceInput = z.output<typeof httpSourceSchema>;
export type StdioSourceInput = z.output<typeof stdioSourceSchema>;
export type ToolSettings = z.output<typeof toolSettings>;
