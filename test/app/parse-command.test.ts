import { describe, expect, it } from 'vitest';
import { type Command, type CommandName, COMMAND_USAGE } from '../../src/app/command.js';
import { type ParseFailure, parseCommand, stripInvocation } from '../../src/app/parse-command.js';

const ALL = Object.keys(COMMAND_USAGE) as CommandName[];
const UNIT = 10_000_000_000n; // amounts are in 1e-10 of a currency unit

function parsed(line: string, offered: readonly CommandName[] = ALL): Command {
  const result = parseCommand(line, offered);
  if (!result.ok) throw new Error(`expected \`${line}\` to parse, got: ${result.failure.message}`);
  return result.command;
}

function failure(line: string, offered: readonly CommandName[] = ALL): ParseFailure {
  const result = parseCommand(line, offered);
  if (result.ok) throw new Error(`expected \`${line}\` to fail, got: ${JSON.stringify(result.command, (_, v) => (typeof v === 'bigint' ? `${v}n` : v))}`);
  return result.failure;
}

describe('invocation prefix', () => {
  it.each(['/finops cost 7d', 'finops cost 7d', '/FinOps cost 7d', '@finops cost 7d', 'finops: cost 7d', '  /finops   cost   7d  '])(
    'strips it from %j',
    (line) => {
      expect(parsed(line)).toEqual({ name: 'cost', period: { kind: 'last-days', days: 7 } });
    },
  );

  it('only strips a whole leading word', () => {
    expect(stripInvocation('finopsy cost')).toBe('finopsy cost');
    expect(stripInvocation('cost for finops')).toBe('cost for finops');
    expect(parsed('cost 7d for finops')).toMatchObject({ name: 'cost', team: 'finops' });
  });

  it('treats an empty line (or just the prefix) as help', () => {
    expect(parsed('')).toEqual({ name: 'help' });
    expect(parsed('/finops')).toEqual({ name: 'help' });
  });
});

describe('subcommand names', () => {
  it('is case-insensitive', () => {
    expect(parsed('COST 7D')).toEqual({ name: 'cost', period: { kind: 'last-days', days: 7 } });
  });

  it('suggests the closest subcommand, keeping the rest of the line', () => {
    const result = failure('cots 7d');
    expect(result.message).toContain('`cots`');
    expect(result.message).toContain('Did you mean `cost 7d`?');
    expect(result.hint).toContain('`help`');
  });

  it('answers an unrelated word as unknown without a suggestion', () => {
    const result = failure('banana split');
    expect(result.message).toContain('`banana`');
    expect(result.message).not.toMatch(/did you mean/i);
  });

  it('treats a subcommand that is not offered as unknown, and lists only offered ones', () => {
    const result = failure('forecast', ['help', 'cost']);
    expect(result.message).toContain("don't know `forecast`");
    expect(result.hint).toContain('`help`');
    expect(result.hint).toContain('`cost`');
    expect(result.hint).not.toContain('forecast');
    // And it never suggests a subcommand that is not offered.
    expect(failure('forcast', ['help', 'cost']).message).not.toContain('forecast`?');
  });

  it('offers every subcommand in COMMAND_USAGE', () => {
    expect(ALL).toEqual([
      'help', 'cost', 'top', 'forecast', 'budget', 'anomalies', 'rightsizing', 'approvers', 'audit', 'tags',
      'subscribe', 'unsubscribe', 'subscriptions', 'digest', 'ask', 'explain', 'ai-usage', 'status',
    ]);
  });
});

describe('help', () => {
  it('parses with and without a topic', () => {
    expect(parsed('help')).toEqual({ name: 'help' });
    expect(parsed('help cost')).toEqual({ name: 'help', topic: 'cost' });
    expect(parsed('help COST')).toEqual({ name: 'help', topic: 'cost' });
  });

  it('rejects an unknown topic, suggesting a close one', () => {
    const far = failure('help nosuch');
    expect(far.message).toContain('`nosuch`');
    expect(far.message).not.toMatch(/did you mean/i);
    expect(far.hint).toContain('help [subcommand]');
    expect(failure('help forcast').message).toContain('did you mean `help forecast`?');
  });
});

describe('cost', () => {
  it('parses with no options', () => {
    expect(parsed('cost')).toEqual({ name: 'cost' });
  });

  it('parses period, dimension, team and metric in any order', () => {
    const expected = { name: 'cost', period: { kind: 'last-days', days: 7 }, by: 'service', team: 'payments', metric: 'AmortizedCost' };
    expect(parsed('cost 7d by service for payments amortized')).toEqual(expected);
    expect(parsed('cost amortized for payments by service 7d')).toEqual(expected);
  });

  it('parses the examples of its usage', () => {
    expect(parsed('cost mtd by team')).toEqual({ name: 'cost', period: { kind: 'mtd' }, by: 'team' });
    expect(parsed('cost last-month by account for payments')).toEqual({
      name: 'cost',
      period: { kind: 'last-month' },
      by: 'account',
      team: 'payments',
    });
  });

  it('parses every period form', () => {
    const periodOf = (token: string) => (parsed(`cost ${token}`) as { period?: unknown }).period;
    expect(periodOf('today')).toEqual({ kind: 'today' });
    expect(periodOf('yesterday')).toEqual({ kind: 'yesterday' });
    expect(periodOf('30d')).toEqual({ kind: 'last-days', days: 30 });
    expect(periodOf('90d')).toEqual({ kind: 'last-days', days: 90 });
    expect(periodOf('2026-10')).toEqual({ kind: 'month', month: '2026-10' });
    expect(periodOf('2026-11-01..2026-11-21')).toEqual({ kind: 'range', first: '2026-11-01', last: '2026-11-21' });
    expect(periodOf('2026-11-21')).toEqual({ kind: 'range', first: '2026-11-21', last: '2026-11-21' });
  });

  it('parses metric words', () => {
    expect(parsed('cost amortised')).toEqual({ name: 'cost', metric: 'AmortizedCost' });
    expect(parsed('cost unblended')).toEqual({ name: 'cost', metric: 'UnblendedCost' });
    expect(parsed('cost net')).toEqual({ name: 'cost', metric: 'NetUnblendedCost' });
    expect(parsed('cost net-unblended')).toEqual({ name: 'cost', metric: 'NetUnblendedCost' });
  });

  it('parses dimensions, their plural and alias forms, and tag keys with their case', () => {
    const byOf = (token: string) => (parsed(`cost 7d by ${token}`) as { by?: unknown }).by;
    expect(byOf('services')).toBe('service');
    expect(byOf('REGION')).toBe('region');
    expect(byOf('linked-account')).toBe('account');
    expect(byOf('usage')).toBe('usage-type');
    expect(byOf('usage-type')).toBe('usage-type');
    expect(byOf('tag:Environment')).toBe('tag:Environment');
    expect(byOf('TAG:cost-center')).toBe('tag:cost-center');
  });

  it('reads `for untagged` as the team without a tag', () => {
    for (const word of ['untagged', 'UNTAGGED', '(untagged)', 'none', '-']) {
      expect(parsed(`cost 7d for ${word}`)).toEqual({ name: 'cost', period: { kind: 'last-days', days: 7 }, team: '' });
    }
  });

  it('keeps the team name as typed', () => {
    expect(parsed('cost for Payments-EU')).toEqual({ name: 'cost', team: 'Payments-EU' });
  });

  it('takes a quoted team name, spaces included, without its quotes', () => {
    const week = { kind: 'last-days', days: 7 };
    expect(parsed('cost 7d for "Data Platform"')).toEqual({ name: 'cost', period: week, team: 'Data Platform' });
    expect(parsed("cost 7d for 'payments'")).toEqual({ name: 'cost', period: week, team: 'payments' });
    expect(parsed('cost for "payments" 7d by service')).toEqual({ name: 'cost', period: week, by: 'service', team: 'payments' });
    expect(parsed('top 30d for "Data  Platform"')).toMatchObject({ team: 'Data  Platform' });
    // An apostrophe inside a quoted name does not end it.
    expect(parsed("cost for 'Bob's team' 7d")).toEqual({ name: 'cost', period: week, team: "Bob's team" });
    expect(parsed('/finops forecast for "Data Platform"')).toEqual({ name: 'forecast', team: 'Data Platform' });
    expect(parsed('budget set "Data Platform" 25k')).toEqual({ name: 'budget', action: 'set', team: 'Data Platform', amount: 25_000n * UNIT });
  });

  it('takes the typographic quotes that Slack and Teams put in', () => {
    expect(parsed('cost 7d for \u201cData Platform\u201d')).toMatchObject({ team: 'Data Platform' }); // “…”
    expect(parsed('cost 7d for \u2018Data Platform\u2019')).toMatchObject({ team: 'Data Platform' }); // ‘…’
    expect(parsed('cost 7d for \u201dData Platform\u201d')).toMatchObject({ team: 'Data Platform' }); // ”…”
    expect(parsed('cost 7d for \u2019payments\u2019')).toMatchObject({ team: 'payments' }); // ’…’
    expect(parsed('cost 7d for \u201cData Platform"')).toMatchObject({ team: 'Data Platform' }); // mixed double quotes
  });

  it('treats a quote inside a word as part of it', () => {
    expect(parsed("cost for O'Brien")).toMatchObject({ team: "O'Brien" });
    expect(parsed('cost for team"x')).toMatchObject({ team: 'team"x' });
  });

  it('says so when a quote is never closed, or closes nothing', () => {
    const open = failure('cost 7d for "Data Platform');
    expect(open.message).toBe('The quote before `Data Platform` is never closed; end the name with a closing quote.');
    expect(open.hint).toContain('for "Data Platform"');
    expect(failure("cost for 'payments").message).toContain('never closed');
    expect(failure('cost for \u201cData Platform').message).toContain('never closed');
    expect(failure('cost for "Data Platform"x').message).toContain('never closed');
    expect(failure('cost for "" 7d').message).toBe('The quotes in `""` hold nothing; put the name between them.');
  });

  it('does not take names of built-in object properties for metrics or dimensions', () => {
    expect(failure('cost 7d constructor').message).toContain("I don't understand `constructor`");
    expect(failure('cost 7d by constructor').message).toContain("I can't group by `constructor`");
    expect(failure('cost by __proto__').message).toContain("I can't group by `__proto__`");
  });

  it('takes one metric', () => {
    const two = failure('cost 7d amortized net');
    expect(two.message).toBe('Choose one cost metric, not both `amortized` and `net`.');
    expect(two.hint).toBe('Metrics: `unblended`, `amortized`, `net`.');
    expect(failure('cost net 7d net').message).toBe('Choose one cost metric; `net` is there twice.');
    expect(failure('forecast amortised unblended').message).toContain('Choose one cost metric');
    expect(failure('tags 30d net amortized').message).toContain('Choose one cost metric');
  });

  it('names the accepted years when a period is in a year it cannot be', () => {
    const result = failure('cost 9999-12');
    expect(result.message).toBe('`9999-12` is out of range: use a year from 2000 to 2100.');
    expect(result.hint).toContain('`YYYY-MM`');
    expect(failure('cost 9999-12-31').message).toContain('out of range');
    expect(failure('cost 0000-01-01..2026-01-01 by service').message).toContain('`0000-01-01` is out of range');
  });

  it('lists the accepted period forms when a period is wrong', () => {
    const result = failure('cost 13x');
    expect(result.message).toContain('`13x`');
    for (const form of ['today', 'yesterday', '7d', '30d', '90d', 'mtd', 'last-month', 'YYYY-MM', 'YYYY-MM-DD..YYYY-MM-DD']) {
      expect(result.hint).toContain(`\`${form}\``);
    }
    expect(failure('cost 0d').hint).toContain('`last-month`');
    expect(failure('cost 2026-13').message).toContain('`2026-13`');
    expect(failure('cost 2026-03-05..2026-03-01').message).toContain('before it starts');
  });

  it('suggests the closest dimension after `by`', () => {
    const result = failure('cost 7d by regon');
    expect(result.message).toContain('`regon`');
    expect(result.message).toContain('`by region`');
    expect(result.hint).toContain('`tag:<Key>`');
    // The suggestion is always the canonical name, not an alias.
    expect(failure('cost by usagetyp').message).toContain('`by usage-type`');
  });

  it('rejects a bad tag key', () => {
    expect(failure('cost by tag:').message).toContain('`tag:`');
  });

  it('suggests `by DIM` for a dimension typed without `by`', () => {
    const result = failure('cost 7d servce');
    expect(result.message).toContain('`servce`');
    expect(result.message).toContain('did you mean `by service`?');
    expect(result.hint).toContain(COMMAND_USAGE.cost.usage);
  });

  it('suggests a period for a misspelt period word', () => {
    expect(failure('cost yesterdy').message).toContain('did you mean `yesterday`?');
  });

  it('needs a value after `by` and `for`', () => {
    const noTeam = failure('cost 7d for');
    expect(noTeam.message).toContain('`for` needs a team');
    const noDimension = failure('cost 7d by');
    expect(noDimension.message).toContain('`by` needs a dimension');
    expect(noDimension.hint).toContain('`service`');
  });

  it('takes one period, one dimension and one team', () => {
    const periods = failure('cost 7d 30d');
    expect(periods.message).toContain('one period');
    expect(periods.hint).toContain('`mtd`');
    expect(failure('cost by service by region').message).toContain('one dimension');
    expect(failure('cost for a for b').message).toContain('one team');
  });
});

describe('top, anomalies and explain', () => {
  it('parse period, team and metric', () => {
    expect(parsed('top 7d')).toEqual({ name: 'top', period: { kind: 'last-days', days: 7 } });
    expect(parsed('top 30d for search')).toEqual({ name: 'top', period: { kind: 'last-days', days: 30 }, team: 'search' });
    expect(parsed('anomalies 30d')).toEqual({ name: 'anomalies', period: { kind: 'last-days', days: 30 } });
    expect(parsed('explain 7d for payments net')).toEqual({
      name: 'explain',
      period: { kind: 'last-days', days: 7 },
      team: 'payments',
      metric: 'NetUnblendedCost',
    });
  });

  it('do not group by a dimension, and do not suggest `by` for them', () => {
    const grouped = failure('top 7d by service');
    expect(grouped.message).toContain('`by`');
    expect(grouped.hint).toContain(COMMAND_USAGE.top.usage);
    expect(failure('top 7d servce').message).not.toContain('by service');
  });
});

describe('forecast and rightsizing', () => {
  it('forecast takes a team and a metric but no period', () => {
    expect(parsed('forecast')).toEqual({ name: 'forecast' });
    expect(parsed('forecast for payments')).toEqual({ name: 'forecast', team: 'payments' });
    expect(parsed('forecast amortized')).toEqual({ name: 'forecast', metric: 'AmortizedCost' });
    const withPeriod = failure('forecast 7d');
    expect(withPeriod.message).toContain('`7d`');
    expect(withPeriod.hint).toContain(COMMAND_USAGE.forecast.usage);
  });

  it('rightsizing takes a team only', () => {
    expect(parsed('rightsizing')).toEqual({ name: 'rightsizing' });
    expect(parsed('rightsizing for search')).toEqual({ name: 'rightsizing', team: 'search' });
    expect(failure('rightsizing 7d').message).toContain('`7d`');
  });
});

describe('budget', () => {
  it('shows budgets with no arguments', () => {
    expect(parsed('budget')).toEqual({ name: 'budget', action: 'show' });
  });

  it('sets a budget with an exact amount', () => {
    expect(parsed('budget set payments 25000')).toEqual({ name: 'budget', action: 'set', team: 'payments', amount: 25_000n * UNIT });
    expect(parsed('budget set payments 25k')).toEqual({ name: 'budget', action: 'set', team: 'payments', amount: 25_000n * UNIT });
    expect(parsed('budget SET payments 25K')).toMatchObject({ amount: 25_000n * UNIT });
    expect(parsed('budget set payments 25,000.50')).toMatchObject({ amount: 2_500_050n * (UNIT / 100n) });
    expect(parsed('budget set payments 1.5k')).toMatchObject({ amount: 1_500n * UNIT });
    expect(parsed('budget set payments $2m')).toMatchObject({ amount: 2_000_000n * UNIT });
    expect(parsed('budget set payments USD12,345')).toMatchObject({ amount: 12_345n * UNIT });
    expect(parsed('budget set untagged 100')).toEqual({ name: 'budget', action: 'set', team: '', amount: 100n * UNIT });
  });

  it('rejects amounts that are not positive numbers, in plain words', () => {
    const negative = failure('budget set payments -5');
    expect(negative.message).toContain('more than zero');
    expect(negative.message).toContain('budget rm');
    expect(failure('budget set payments 0').message).toContain('more than zero');
    const garbage = failure('budget set payments abc');
    expect(garbage.message).toContain('`abc` is not an amount');
    expect(garbage.message).toContain('25k');
    expect(failure('budget set payments k').message).toContain('not an amount');
    expect(failure('budget set payments 2000000000000').message).toContain('zeros');
  });

  it('needs a team and an amount', () => {
    expect(failure('budget set payments').message).toContain('a team and a monthly amount');
    expect(failure('budget set').message).toContain('a team and a monthly amount');
    expect(failure('budget set payments 1 2').message).toContain('a team and a monthly amount');
  });

  it('removes a budget', () => {
    expect(parsed('budget rm payments')).toEqual({ name: 'budget', action: 'rm', team: 'payments' });
    expect(parsed('budget remove payments')).toEqual({ name: 'budget', action: 'rm', team: 'payments' });
    expect(parsed('budget delete none')).toEqual({ name: 'budget', action: 'rm', team: '' });
    expect(failure('budget rm').message).toContain('one team');
  });

  it('rejects an unknown action with the usage', () => {
    const result = failure('budget raise payments 10');
    expect(result.message).toContain('`budget raise`');
    expect(result.hint).toContain(COMMAND_USAGE.budget.usage);
  });
});

describe('tags', () => {
  it('takes an optional key, period and metric', () => {
    expect(parsed('tags')).toEqual({ name: 'tags' });
    expect(parsed('tags Environment 7d')).toEqual({ name: 'tags', key: 'Environment', period: { kind: 'last-days', days: 7 } });
    expect(parsed('tags 30d amortized')).toEqual({ name: 'tags', period: { kind: 'last-days', days: 30 }, metric: 'AmortizedCost' });
  });

  it('takes one key only', () => {
    expect(failure('tags Environment Owner').message).toContain('one tag key');
  });
});

describe('subscriptions and digests', () => {
  it('subscribe and unsubscribe need a cadence', () => {
    expect(parsed('subscribe weekly for payments')).toEqual({ name: 'subscribe', cadence: 'weekly', team: 'payments' });
    expect(parsed('subscribe DAILY')).toEqual({ name: 'subscribe', cadence: 'daily' });
    expect(parsed('unsubscribe daily')).toEqual({ name: 'unsubscribe', cadence: 'daily' });
    const missing = failure('subscribe');
    expect(missing.message).toContain('`daily` or `weekly`');
    expect(missing.hint).toContain(COMMAND_USAGE.subscribe.usage);
    expect(failure('unsubscribe for payments').message).toContain('`daily` or `weekly`');
    expect(failure('subscribe monthly').message).toContain('`monthly`');
    expect(failure('subscribe daily weekly').message).toContain('`daily` or `weekly`');
  });

  it('subscribe takes the channel\'s time zone with `in`, new and old IANA names alike', () => {
    expect(parsed('subscribe daily in europe/paris for payments')).toEqual({ name: 'subscribe', cadence: 'daily', team: 'payments', timeZone: 'Europe/Paris' });
    expect(parsed('subscribe weekly for "Data Platform" in Asia/Kolkata')).toEqual({ name: 'subscribe', cadence: 'weekly', team: 'Data Platform', timeZone: 'Asia/Kolkata' });
    expect(parsed('subscribe daily in Asia/Calcutta')).toMatchObject({ timeZone: 'Asia/Calcutta' });
    expect(parsed('subscribe daily in Etc/UTC')).toMatchObject({ timeZone: 'Etc/UTC' });
    expect(failure('subscribe daily in Mars/Olympus').message).toContain("I don't know the time zone `Mars/Olympus`");
    expect(failure('subscribe daily in').message).toContain('`in` needs a time zone');
  });

  it('digest defaults to daily', () => {
    expect(parsed('digest')).toEqual({ name: 'digest', cadence: 'daily' });
    expect(parsed('digest weekly for search')).toEqual({ name: 'digest', cadence: 'weekly', team: 'search' });
    expect(parsed('digest for search')).toEqual({ name: 'digest', cadence: 'daily', team: 'search' });
    expect(failure('digest hourly').message).toContain('`hourly`');
  });

  it('subscriptions and status take no arguments', () => {
    expect(parsed('subscriptions')).toEqual({ name: 'subscriptions' });
    expect(parsed('status')).toEqual({ name: 'status' });
    expect(failure('status now').message).toContain('no arguments');
    expect(failure('subscriptions all').message).toContain('no arguments');
  });
});

describe('ask', () => {
  it('keeps the question as typed', () => {
    expect(parsed('ask why did RDS go up last week?')).toEqual({ name: 'ask', question: 'why did RDS go up last week?' });
    expect(parsed('/finops ask cost 7d by service?')).toEqual({ name: 'ask', question: 'cost 7d by service?' });
  });

  it('keeps quotes and apostrophes in the question, closed or not', () => {
    expect(parsed("ask why didn't RDS drop?")).toEqual({ name: 'ask', question: "why didn't RDS drop?" });
    expect(parsed('ask what is "Data Platform" spending on?')).toEqual({ name: 'ask', question: 'what is "Data Platform" spending on?' });
    expect(parsed("ask 'why' is EC2 up?")).toEqual({ name: 'ask', question: "'why' is EC2 up?" });
    expect(parsed('ask what does \u201cnet\u201d mean?')).toEqual({ name: 'ask', question: 'what does \u201cnet\u201d mean?' });
    expect(parsed('ask is "payments over budget?')).toEqual({ name: 'ask', question: 'is "payments over budget?' });
    expect(parsed("ask it's 'odd")).toEqual({ name: 'ask', question: "it's 'odd" });
  });

  it('needs a question', () => {
    const result = failure('ask');
    expect(result.message).toContain('needs a question');
    expect(failure('ask    ').message).toContain('needs a question');
  });
});

describe('the grammar', () => {
  it('parses every example in COMMAND_USAGE', () => {
    for (const [name, usage] of Object.entries(COMMAND_USAGE)) {
      for (const example of usage.examples) {
        expect(parsed(example).name, example).toBe(name);
      }
    }
  });
});

describe('approvers', () => {
  it('shows every team’s approvers, or one team’s (untagged included)', () => {
    expect(parsed('approvers')).toEqual({ name: 'approvers', action: 'show' });
    expect(parsed('approvers for payments')).toEqual({ name: 'approvers', action: 'show', team: 'payments' });
    expect(parsed('approvers for "Data Platform"')).toEqual({ name: 'approvers', action: 'show', team: 'Data Platform' });
    expect(parsed('approvers for untagged')).toEqual({ name: 'approvers', action: 'show', team: '' });
    expect(parsed('/finops APPROVERS FOR payments')).toEqual({ name: 'approvers', action: 'show', team: 'payments' });
  });

  it('adds people from Slack’s escaped mentions, display names with spaces included', () => {
    expect(parsed('approvers add payments <@U0ALICE01|alice smith>')).toEqual({ name: 'approvers', action: 'add', team: 'payments', people: [{ kind: 'user', id: 'U0ALICE01' }] });
    expect(parsed('approvers add payments <@U0ALICE01|Alice  van der Berg> <@W0BOB0001|bob>')).toEqual({
      name: 'approvers',
      action: 'add',
      team: 'payments',
      people: [
        { kind: 'user', id: 'U0ALICE01' },
        { kind: 'user', id: 'W0BOB0001' },
      ],
    });
    expect(parsed('approvers add payments <@U0ALICE01>')).toMatchObject({ people: [{ kind: 'user', id: 'U0ALICE01' }] });
  });

  it('adds user groups from their mention, and people and groups by their raw ids', () => {
    expect(parsed('approvers add payments <!subteam^S0LEADS01|@leads>')).toEqual({ name: 'approvers', action: 'add', team: 'payments', people: [{ kind: 'group', id: 'S0LEADS01' }] });
    expect(parsed('approvers add "Data Platform" <@U0ALICE01|alice smith> <!subteam^S0LEADS01|@platform leads> U0123ABCD S0OPS0001')).toEqual({
      name: 'approvers',
      action: 'add',
      team: 'Data Platform',
      people: [
        { kind: 'user', id: 'U0ALICE01' },
        { kind: 'group', id: 'S0LEADS01' },
        { kind: 'user', id: 'U0123ABCD' },
        { kind: 'group', id: 'S0OPS0001' },
      ],
    });
    // Teams users are named by their Entra object id.
    expect(parsed('approvers add payments 0F8FAD5B-D9CB-469F-A165-70867728950E')).toMatchObject({ people: [{ kind: 'user', id: '0f8fad5b-d9cb-469f-a165-70867728950e' }] });
  });

  it('adds approvers for every team with `*`, and for untagged instances', () => {
    expect(parsed('approvers add * U0FINOPS1')).toEqual({ name: 'approvers', action: 'add', team: '*', people: [{ kind: 'user', id: 'U0FINOPS1' }] });
    expect(parsed('approvers add untagged U0FINOPS1')).toMatchObject({ action: 'add', team: '' });
  });

  it('removes with rm, remove or delete', () => {
    for (const verb of ['rm', 'remove', 'delete', 'RM']) {
      expect(parsed(`approvers ${verb} payments <@U0BOB0001|bob>`)).toEqual({ name: 'approvers', action: 'rm', team: 'payments', people: [{ kind: 'user', id: 'U0BOB0001' }] });
    }
  });

  it('refuses a plain @name (its id never came through) with a sentence on how to name someone', () => {
    const result = failure('approvers add payments @alice');
    expect(result.message).toBe(
      "I can't tell who `@alice` is. Pick the person or group from Slack's @ menu so their id comes through, or give the id itself (U0123ABCD, or S0123ABCD for a user group).",
    );
    // One unknown person refuses the whole line: nobody is added half-way.
    expect(failure('approvers add payments <@U0ALICE01|alice> @bob').message).toContain('`@bob`');
    expect(failure('approvers add payments <#C0PAYMENTS|payments>').message).toContain("I can't tell who `<#C0PAYMENTS|payments>` is.");
  });

  it('refuses an unknown action, and add or rm without a team and people', () => {
    const unknown = failure('approvers grant payments U0ALICE01');
    expect(unknown.message).toBe('`approvers grant` is not an approvers action.');
    expect(unknown.hint).toBe(`Usage: \`${COMMAND_USAGE.approvers.usage}\``);
    expect(failure('approvers add payments').message).toBe('`approvers add` takes a team and one or more people, for example `approvers add payments @alice`.');
    expect(failure('approvers remove').message).toBe('`approvers rm` takes a team and one or more people, for example `approvers rm payments @alice`.');
    expect(failure('approvers for').message).toContain('`for` needs a team name');
    expect(failure('approvers for payments now').message).toContain('`now`');
  });
});

describe('audit', () => {
  it('takes a team only', () => {
    expect(parsed('audit')).toEqual({ name: 'audit' });
    expect(parsed('audit for payments')).toEqual({ name: 'audit', team: 'payments' });
    expect(parsed('audit for untagged')).toEqual({ name: 'audit', team: '' });
    expect(parsed('AUDIT for "Data Platform"')).toEqual({ name: 'audit', team: 'Data Platform' });
  });

  it('refuses anything else', () => {
    const period = failure('audit 7d');
    expect(period.message).toContain('`7d`');
    expect(period.hint).toBe(`Usage: \`${COMMAND_USAGE.audit.usage}\``);
    expect(failure('audit for').message).toContain('`for` needs a team name');
    expect(failure('audit for payments for search').message).toBe('Ask about one team at a time.');
  });

  it('suggests `audit` for a near miss', () => {
    expect(failure('audti for payments').message).toContain('Did you mean `audit for payments`?');
  });
});
