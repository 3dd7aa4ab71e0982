import { toolrunVitest } from '@toolrun/vitest-config';

// The suites spawn the CLI and real servers as child processes.
export default toolrunVitest({ test: { testTimeout: 60_000 } });
