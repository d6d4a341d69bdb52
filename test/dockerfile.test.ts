/**
 * What can be checked of the Dockerfile without a Docker engine: every file it copies
 * exists and is not excluded by .dockerignore, it starts the CLI's `serve` as package.json
 * declares it, runs as a non-root user, and ships the migrations the CLI applies at start.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { migrationsFolder } from '../src/adapters/db/database.js';

const root = new URL('../', import.meta.url);
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');
const ignored = readFileSync(new URL('.dockerignore', root), 'utf8').split('\n').map((line) => line.trim()).filter(Boolean);
const packageJson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { bin: Record<string, string>; engines: { node: string } };
const instructions = dockerfile
  .replace(/\\\n/g, ' ')
  .split('\n')
  .filter((line) => line.trim() !== '' && !line.trim().startsWith('#'));

describe('Dockerfile', () => {
  it('copies only files that exist in the build context and are not ignored', () => {
    const sources = instructions
      .filter((line) => line.startsWith('COPY ') && !line.includes('--from='))
      .flatMap((line) => line.split(/\s+/).slice(1, -1));
    expect(sources.length).toBeGreaterThan(3);
    for (const source of sources) {
      expect(existsSync(new URL(source, root)), source).toBe(true);
      expect(ignored.some((pattern) => source === pattern || source.startsWith(`${pattern}/`)), `${source} is ignored`).toBe(false);
    }
  });

  it('starts `serve` through the same entry point as the package bin', () => {
    const cmd = instructions.filter((line) => line.startsWith('CMD ')).at(-1)!;
    expect(JSON.parse(cmd.slice(4))).toEqual(['node', packageJson.bin['finops-bot'], 'serve']);
  });

  it('ships the migrations where the CLI looks for them, and the built code', () => {
    const relative = migrationsFolder().slice(new URL('.', root).pathname.length);
    expect(instructions).toContain(`COPY ${relative} ./${relative}`);
    expect(instructions.some((line) => line.startsWith('COPY --from=build /app/dist/src ./dist/src'))).toBe(true);
  });

  it('runs as a non-root user on a Node version the package supports, and exposes the default port', () => {
    expect(instructions.filter((line) => line.startsWith('USER ')).at(-1)).toBe('USER node');
    const major = Number(/FROM node:(\d+)/.exec(dockerfile)![1]);
    expect(major).toBeGreaterThanOrEqual(Number(/\d+/.exec(packageJson.engines.node)![0]));
    expect(instructions).toContain('EXPOSE 3000');
    expect(dockerfile).toContain('/healthz');
  });

  it('keeps dependencies, build output and local state out of the build context', () => {
    for (const entry of ['node_modules', 'dist', '.finops', '.env']) expect(ignored).toContain(entry);
  });
});
