import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The default server: `pnpm start`'s address. */
export const DEFAULT_URL = 'http://127.0.0.1:3000';

/** What the CLI reads from its environment, once (the only place that reads `process.env`). */
export interface CliEnv {
  /** `TOOLRUN_URL`: the server, unless `--url` is given. */
  url: string | undefined;
  /** `TOOLRUN_TOKEN`: a token to use instead of the saved one, unless `--token` is given. */
  token: string | undefined;
  /** The config file: `$XDG_CONFIG_HOME/toolrun/config.json`, else `~/.config/toolrun/config.json`. */
  configFile: string;
  /** `NO_COLOR` set to anything non-empty (https://no-color.org). */
  noColor: boolean;
  /** `FORCE_COLOR` set to anything but `0`/`false`: colours even when stdout is not a terminal. */
  forceColor: boolean;
  /** The folder the command was typed in: pnpm runs root scripts at the root and says where in `INIT_CWD`. */
  cwd: string;
  /** `CI` set: no spinner, no prompt, whatever the terminal says. */
  ci: boolean;
  /** How the user typed the command, for the hints we print (`pnpm toolrun` or `toolrun`). */
  invokedAs: string;
}

const set = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();

/** Reads the CLI's environment. */
export function readCliEnv(source: NodeJS.ProcessEnv, cwd: string): CliEnv {
  const xdg = set(source.XDG_CONFIG_HOME);
  const configHome = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), '.config');
  const initCwd = set(source.INIT_CWD);
  const force = set(source.FORCE_COLOR);
  return {
    url: set(source.TOOLRUN_URL),
    token: set(source.TOOLRUN_TOKEN),
    configFile: join(configHome, 'toolrun', 'config.json'),
    noColor: set(source.NO_COLOR) !== undefined,
    forceColor: force !== undefined && force !== '0' && force !== 'false',
    cwd: initCwd !== undefined && isAbsolute(initCwd) ? initCwd : cwd,
    ci: set(source.CI) !== undefined && source.CI !== 'false',
    invokedAs: source.npm_lifecycle_event === 'toolrun' ? 'pnpm toolrun' : 'toolrun',
  };
}
