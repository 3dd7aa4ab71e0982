import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./mcpHttpServer.mjs', import.meta.url));

/** A running `mcpHttpServer.mjs` process. */
export interface McpHttpServerProcess {
  readonly port: number;
  readonly url: string;
  readonly pid: number | undefined;
  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void>;
}

/** Starts the test MCP server as a real process on `port` (0: any free one) and waits until it listens. */
export async function startMcpHttpServer(opts: {
  port?: number;
  collide?: boolean;
  token: string;
}): Promise<McpHttpServerProcess> {
  const args = [SCRIPT, String(opts.port ?? 0), ...(opts.collide ? ['--collide'] : [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', TEST_MCP_TOKEN: opts.token },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /listening (\d+)/.exec(out);
      if (match?.[1] !== undefined) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`the test MCP server exited with ${code} before listening`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    port,
    url: `http://127.0.0.1:${port}/mcp`,
    pid: child.pid,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
