import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { toolRunContext } from '../../test/support/toolRunContext.ts';
import { calculatorTool } from './calculator.ts';

const run = async (expression: string) =>
  calculatorTool.run(calculatorTool.input.parse({ expression }), toolRunContext({ userId: 'alice' }));

describe('calculator tool', () => {
  it('returns the value and a 12-digit formatted form', async () => {
    await expect(run('(2+3)*4')).resolves.toEqual({ expression: '(2+3)*4', result: 20, formatted: '20' });
    await expect(run('0.1 + 0.2')).resolves.toMatchObject({ formatted: '0.3' });
  });

  it('fails with TOOL_FAILED naming the cause and position for division by zero', async () => {
    await expect(run('4 / (2 - 2)')).rejects.toMatchObject({
      name: 'DispatchError',
      code: 'TOOL_FAILED',
      message: 'cannot evaluate "4 / (2 - 2)": division by zero at character 3',
      details: { reason: 'DIVISION_BY_ZERO', position: 3 },
    });
  });

  it('fails clearly on bad syntax and never evaluates JavaScript', async () => {
    await expect(run('2 +* 3')).rejects.toMatchObject({ details: { reason: 'UNEXPECTED_TOKEN', position: 4 } });
    await expect(run('globalThis.x = 1')).rejects.toMatchObject({ details: { reason: 'UNEXPECTED_CHARACTER' } });
    expect((globalThis as Record<string, unknown>).x).toBeUndefined();
  });

  it('bounds its input: the schema refuses empty and over-long expressions', () => {
    expect(calculatorTool.input.safeParse({ expression: '' }).success).toBe(false);
    expect(calculatorTool.input.safeParse({ expression: '1+'.repeat(300) }).success).toBe(false);
    expect(calculatorTool.input.safeParse({ expression: '1', extra: true }).success).toBe(false);
  });

  it('declares user access, a timeout and a JSON Schema with the bound', () => {
    expect(calculatorTool.access).toBe('user');
    expect(calculatorTool.timeoutMs).toBeGreaterThan(0);
    expect(z.toJSONSchema(calculatorTool.input)).toMatchObject({
      properties: { expression: { type: 'string', maxLength: 500 } },
      required: ['expression'],
    });
  });
});
