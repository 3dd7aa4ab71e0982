#!/usr/bin/env node
// The `toolrun` command. tsx is registered from this workspace, so the command works from any folder
// (`pnpm toolrun` at the root, the bin through a link, `node apps/cli/bin/toolrun.js`) without a build.
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
