import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadOrCreateSecret, SECRET_FILE_NAME } from './loadOrCreateSecret.ts';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolrun-secret-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('loadOrCreateSecret', () => {
  it('generates a 32-byte secret once, in a file only the owner can read, and returns the same one after', () => {
    const dir = join(tempDir(), 'nested', 'data');
    const first = loadOrCreateSecret(dir);
    expect(first.byteLength).toBe(32);
    expect(statSync(join(dir, SECRET_FILE_NAME)).mode & 0o777).toBe(0o600);
    expect(Buffer.from(loadOrCreateSecret(dir)).equals(Buffer.from(first))).toBe(true);
  });

  it('generates different secrets in different data folders', () => {
    const a = loadOrCreateSecret(tempDir());
    const b = loadOrCreateSecret(tempDir());
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('narrows a secret file that others can read back to 0600', () => {
    const dir = tempDir();
    loadOrCreateSecret(dir);
    chmodSync(join(dir, SECRET_FILE_NAME), 0o644);
    loadOrCreateSecret(dir);
    expect(statSync(join(dir, SECRET_FILE_NAME)).mode & 0o777).toBe(0o600);
  });
});
