import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_TOOL_NAMES, createBuiltinTools } from './createBuiltinTools.ts';
import { createInMemoryScratchpad } from './createInMemoryScratchpad.ts';

describe('createBuiltinTools', () => {
  const tools = createBuiltinTools({
    scratchpad: createInMemoryScratchpad(),
    runControl: { activeRuns: () => [], cancelRun: () => false },
    history: { prune: async () => ({ runs: 0, events: 0 }) },
  });

  it('returns every built-in tool once, with admin access exactly on the admin tools', () => {
    expect(tools.map((tool) => tool.name)).toEqual([...BUILTIN_TOOL_NAMES]);
    expect(tools.filter((tool) => tool.access === 'admin').map((tool) => tool.name)).toEqual([
      'list_active_runs',
      'cancel_run',
      'purge_history',
    ]);
  });

  it('gives every tool a description, a timeout, a frozen definition and an object JSON Schema', () => {
    for (const tool of tools) {
      expect(tool.description.length).toBeGreaterThan(20);
      expect(tool.timeoutMs).toBeGreaterThan(0);
      expect(Object.isFrozen(tool)).toBe(true);
      expect(z.toJSONSchema(tool.input, { io: 'input' })).toMatchObject({ type: 'object' });
    }
  });
});
