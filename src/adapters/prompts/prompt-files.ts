/**
 * Loads the reviewed prompt files (prompts/ at the package root) once, at start. A missing
 * or empty file stops the start with one line naming it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The prompt texts, by name. */
export interface PromptFiles {
  readonly system: string;
  readonly explain: string;
}

/** The prompts/ folder: beside package.json, whether running from src/ or dist/src/. */
export function defaultPromptsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    if (existsSync(join(dir, 'prompts', 'system.md'))) return join(dir, 'prompts');
    dir = resolve(dir, '..');
  }
  return resolve('prompts');
}

/** Reads every prompt from `dir`; throws an Error with one line when one is missing or empty. */
export function loadPromptFiles(dir: string = defaultPromptsDir()): PromptFiles {
  const read = (name: string): string => {
    const path = join(dir, name);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      throw new Error(`The prompt file ${path} is missing; it ships with finops-bot in prompts/.`);
    }
    if (text.trim() === '') throw new Error(`The prompt file ${path} is empty.`);
    return text.trim();
  };
  return { system: read('system.md'), explain: read('explain.md') };
}
