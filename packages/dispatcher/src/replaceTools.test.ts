import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineTool } from './defineTool.ts';
import { DispatchError } from './errors.ts';
import { createDispatcherFactory } from './factory.ts';
import { createMemorySink } from './memorySink.ts';

const echo = (name: string, extra: Partial<Parameters<typeof defineTool>[0]> = {}) =>
  defineTool({
    name,
    description: `echoes (${name})`,
    input: z.object({ text: z.string() }),
    access: 'user',
    run: ({ text }) => ({ text, by: name }),
    ...extra,
  });

describe('tools that bring their own JSON Schema and source, and a registry replaced whole', () => {
  it('lists a tool with its own JSON Schema and source, while its zod input still validates each call', async () => {
    const ownSchema = { type: 'object', properties: { text: { type: 'string', maxLength: 5 } }, required: ['text'] };
    const tool = echo('files__echo', { inputSchema: ownSchema, source: 'files' });
    const factory = createDispatcherFactory({ tools: [tool], sink: createMemorySink() });
    expect(factory.tools.list()[0]).toMatchObject({ name: 'files__echo', source: 'files', inputSchema: ownSchema });
    expect(Object.isFrozen(factory.tools.list()[0]?.inputSchema)).toBe(true);
    await using scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    const bad = await scope.execute('files__echo', { text: 3 });
    expect(bad).toMatchObject({ status: 'error', error: { code: 'INVALID_INPUT' } });
  });

  it('refuses a malformed own schema or source as INVALID_REGISTRY', () => {
    const sink = createMemorySink();
    expect(() => createDispatcherFactory({ tools: [echo('a', { inputSchema: [] })], sink })).toThrow(/inputSchema/);
    expect(() => createDispatcherFactory({ tools: [echo('a', { source: 'no spaces' })], sink })).toThrow(/source/);
  });

  it('swaps the registry in one step, keeps the old one when the new one is invalid, and lets running calls finish', async () => {
    let release: () => void = () => {};
    const slow = defineTool({
      name: 'slow',
      description: 'waits to be released',
      input: z.object({}),
      access: 'user',
      run: () => new Promise<string>((resolve) => (release = () => resolve('old slow'))),
    });
    const factory = createDispatcherFactory({ tools: [echo('one'), slow], sink: createMemorySink() });
    await using scope = factory.forRequest(factory.createContext({ userId: 'alice' }));
    const running = scope.execute('slow', {});

    factory.replaceTools([echo('two')]);
    expect(factory.tools.list().map((t) => t.name)).toEqual(['two']);
    expect((await scope.execute('one', { text: 'x' })).status).toBe('error');
    expect(await scope.execute('two', { text: 'x' })).toMatchObject({ status: 'success', output: { by: 'two' } });
    release();
    expect(await running).toMatchObject({ status: 'success', output: 'old slow' });

    const refused = (() => {
      try {
        factory.replaceTools([echo('three'), echo('three')]);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(refused).toBeInstanceOf(DispatchError);
    expect(factory.tools.list().map((t) => t.name)).toEqual(['two']);
  });
});
