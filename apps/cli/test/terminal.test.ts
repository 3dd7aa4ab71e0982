import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN } from './support/cli.ts';
import { login, startTestServer, Terminal, tempConfig } from './support/server.ts';

let server: Awaited<ReturnType<typeof startTestServer>>;
let config: ReturnType<typeof tempConfig>;
let token: string;
beforeAll(async () => {
  server = await startTestServer();
  config = tempConfig();
  token = await login(server.url, 'alice');
});
afterAll(async () => {
  await server?.stop();
  config?.remove();
});

/** `toolrun run slow` in a terminal, then its exit code on screen; `CI` unset, or the CLI would not ask. */
function slowRunInTerminal(): Terminal {
  const env = `TOOLRUN_URL=${server.url} TOOLRUN_TOKEN=${token} XDG_CONFIG_HOME=${config.dir}`;
  return new Terminal(
    `env -u CI -u NO_COLOR ${env} ${process.execPath} ${BIN} run slow steps=60 delayMs=250; echo "EXIT=$?"; sleep 60`,
  );
}

describe('Ctrl-C in a terminal', () => {
  it('shows the call in flight with its time, then asks; "Cancel the run" cancels it and exits 4', async () => {
    const terminal = slowRunInTerminal();
    try {
      // The spinner lists the running call with its elapsed time.
      await terminal.waitFor(/⋯ slow_task .* \d+(\.\d)? s/);
      terminal.press('C-c');
      await terminal.waitFor(/is still running\. What now\?/);
      terminal.press('Down');
      terminal.press('Enter');
      const screen = await terminal.waitFor(/EXIT=\d+/);
      expect(screen).toMatch(/⊘ slow_task .* cancelled CANCELLED/);
      expect(screen).toMatch(/EXIT=4\b/);
    } finally {
      terminal.close();
    }
  });

  it('"Detach" leaves the run running, prints how to follow it again and exits 130', async () => {
    const terminal = slowRunInTerminal();
    try {
      await terminal.waitFor(/⋯ slow_task/);
      terminal.press('C-c');
      await terminal.waitFor(/What now\?/);
      terminal.press('Enter');
      const screen = await terminal.waitFor(/EXIT=\d+/);
      expect(screen).toMatch(/follow it again: toolrun follow run_\S+ --from run_\S+:\d+/);
      expect(screen).toMatch(/EXIT=130\b/);
    } finally {
      terminal.close();
    }
  });
});
