export type { CliClient } from './createCliClient.ts';
export { createCliClient } from './createCliClient.ts';
export { createProgram, runCli } from './createProgram.ts';
export type { CliEnv } from './env.ts';
export { DEFAULT_URL, readCliEnv } from './env.ts';
export type { ExitCode } from './exitCodes.ts';
export { EXIT, exitCodeOf } from './exitCodes.ts';
export { parseRunInput } from './parseRunInput.ts';
