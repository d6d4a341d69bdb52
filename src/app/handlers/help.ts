/** `help [subcommand]`: what the bot can do, or how to use one subcommand. */
import { DIMENSION_FORMS, METRIC_WORDS } from '../../core/cost-model.js';
import { PERIOD_FORMS } from '../../core/period.js';
import type { Reply } from '../../core/reply.js';
import { type Command, type CommandName, COMMAND_USAGE } from '../command.js';

/** Answers `help`, listing only the subcommands this bot offers. */
export function handleHelp(command: Extract<Command, { name: 'help' }>, offered: readonly CommandName[]): Reply {
  const topic = command.topic as CommandName | undefined;
  if (topic) {
    const entry = COMMAND_USAGE[topic];
    const blocks: Reply['blocks'][number][] = [
      { type: 'text', text: `\`${entry.usage}\`: ${entry.summary}.` },
      { type: 'text', text: `Examples: ${entry.examples.map((example) => `\`${example}\``).join(', ')}` },
    ];
    if (entry.usage.includes('PERIOD')) blocks.push({ type: 'context', text: `PERIOD: ${PERIOD_FORMS.map((form) => `\`${form}\``).join(', ')}` });
    if (entry.usage.includes('DIM')) blocks.push({ type: 'context', text: `DIM: ${DIMENSION_FORMS.map((form) => `\`${form}\``).join(', ')}` });
    if (entry.usage.includes('TEAM')) {
      blocks.push({ type: 'context', text: 'TEAM: a value of the team tag (in quotes if it has spaces: `for "Data Platform"`), or `untagged` for spend without it.' });
    }
    if (['cost', 'top', 'forecast', 'tags'].includes(topic)) {
      blocks.push({ type: 'context', text: `Add ${Object.keys(METRIC_WORDS).filter((word) => !word.includes('-') && word !== 'amortised').map((word) => `\`${word}\``).join(', ')} to choose the cost metric.` });
    }
    return { kind: 'help', title: `help ${topic}`, blocks };
  }
  return {
    kind: 'help',
    title: 'What I can do',
    blocks: [
      {
        type: 'table',
        columns: [
          { title: 'Command', align: 'left' },
          { title: 'What it does', align: 'left' },
        ],
        rows: offered.map((name) => [`\`${COMMAND_USAGE[name].usage}\``, COMMAND_USAGE[name].summary]),
      },
      { type: 'context', text: 'Try `cost 7d by service`, `top 30d`, or `help cost` for the details of one command.' },
    ],
  };
}
