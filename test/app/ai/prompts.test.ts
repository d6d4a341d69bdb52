/**
 * The reviewed prompt files (prompts/): they load, hold no secrets and no internal lists,
 * and the `explain` request has the placeholders the bot fills in.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DemoCostSource } from '../../../src/adapters/demo/demo-cost-source.js';
import { defaultPromptsDir, loadPromptFiles } from '../../../src/adapters/prompts/prompt-files.js';
import { TOOL_NAMES } from '../../../src/app/ai/tools.js';

const SECRET_LOOKING = [
  /xox[abpors]-/i,
  /xapp-/i,
  /\bAKIA[0-9A-Z]{4,}/,
  /\bASIA[0-9A-Z]{12,}/,
  /postgres(?:ql)?:\/\//i,
  /password/i,
  /secret/i,
  /api[_-]?key/i,
  /token\s*[:=]/i,
  /-----BEGIN/,
  /\b[0-9a-f]{32,}\b/i,
  /[A-Za-z0-9+/]{40,}/,
  /\b\d{12}\b/,
  /arn:aws:/i,
];

describe('prompt files', () => {
  const prompts = loadPromptFiles();

  it('load from prompts/ beside package.json: system.md and explain.md, trimmed and not empty', () => {
    expect(defaultPromptsDir()).toBe(join(process.cwd(), 'prompts'));
    expect(prompts.system).toBe(readFileSync(join(defaultPromptsDir(), 'system.md'), 'utf8').trim());
    expect(prompts.explain).toBe(readFileSync(join(defaultPromptsDir(), 'explain.md'), 'utf8').trim());
    expect(prompts.system.length).toBeGreaterThan(200);
    expect(prompts.explain.length).toBeGreaterThan(20);
  });

  it.each(['system', 'explain'] as const)('%s.md holds nothing that looks like a secret', (name) => {
    for (const pattern of SECRET_LOOKING) expect(prompts[name], String(pattern)).not.toMatch(pattern);
  });

  it.each(['system', 'explain'] as const)('%s.md names no team, account, user or approver', (name) => {
    const text = prompts[name].toLowerCase();
    const demo = new DemoCostSource().organisation;
    const teams = [...new Set(demo.lineItems.map((item) => item.team))].filter((team) => team !== '');
    expect(teams.length).toBeGreaterThan(3);
    for (const team of teams) expect(text).not.toMatch(new RegExp(`\\b${team}\\b`));
    expect(text).not.toMatch(/\bacme-|<@u[0-9a-z]+>|\bu0[0-9a-z]{6,}\b|@[a-z0-9.-]+\.[a-z]{2,}/);
    expect(text).not.toMatch(/approver|admins?:|finops_channel_teams|channel_teams|allow-?list of (?:users|teams)/);
  });

  it('system.md describes only tools that exist, and the limits without numbers of its own', () => {
    for (const name of prompts.system.match(/`([a-z_]+)`/g) ?? []) {
      const word = name.slice(1, -1);
      if (word.includes('_')) expect(TOOL_NAMES, word).toContain(word);
    }
    expect(prompts.system).not.toMatch(/\b\d+\s*(?:tokens|rounds|answers per|requests per)\b/i);
  });

  it('explain.md has the {{period}} and {{scope}} placeholders, once each, and no other', () => {
    expect(prompts.explain.match(/\{\{period\}\}/g)).toHaveLength(1);
    expect(prompts.explain.match(/\{\{scope\}\}/g)).toHaveLength(1);
    expect(prompts.explain.match(/\{\{\w+\}\}/g)).toHaveLength(2);
    expect(prompts.system).not.toMatch(/\{\{\w+\}\}/);
  });

  it('a missing or empty file stops the start with one line naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'finops-prompts-'));
    try {
      expect(() => loadPromptFiles(dir)).toThrow(`The prompt file ${join(dir, 'system.md')} is missing; it ships with finops-bot in prompts/.`);
      writeFileSync(join(dir, 'system.md'), 'You are FinOps.');
      writeFileSync(join(dir, 'explain.md'), ' \n\t\n');
      expect(() => loadPromptFiles(dir)).toThrow(`The prompt file ${join(dir, 'explain.md')} is empty.`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
