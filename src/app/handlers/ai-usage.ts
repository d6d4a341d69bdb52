/**
 * `ai-usage [PERIOD]`: what the bot's own AI answers cost, by day and model — answers,
 * tokens and USD at the model's price — so the people paying for Bedrock can see it.
 */
import { formatNanoUsd, NO_USAGE, addUsage } from '../../core/ai-pricing.js';
import { addDays, formatRange, resolvePeriod, todayIn } from '../../core/period.js';
import type { Reply } from '../../core/reply.js';
import type { AiUsageLedger } from '../../ports.js';
import type { Command } from '../command.js';
import type { HandlerDeps } from '../report-context.js';

/** Answers `ai-usage`. */
export async function handleAiUsage(deps: HandlerDeps & { usage: AiUsageLedger; modelId: string | undefined }, command: Extract<Command, { name: 'ai-usage' }>): Promise<Reply> {
  const zone = deps.settings.timeZone;
  const today = todayIn(zone, deps.clock.now());
  const period = resolvePeriod(command.period ?? { kind: 'last-days', days: 30 }, today);
  // Unlike cost data, usage is recorded up to the minute: "the last N days" and "month to date" count today too.
  const throughToday = command.period === undefined || command.period.kind === 'last-days' || command.period.kind === 'mtd';
  const range = throughToday && period.end === today ? { start: period.start, end: addDays(today, 1) } : period;
  const days = await deps.usage.dailyUsage(range, zone);
  const model = deps.modelId ? `Model now: \`${deps.modelId}\`.` : 'No model is configured (BEDROCK_MODEL_ID): answers come from the built-in explainer, at no AI cost.';
  const footer = `${period.label} (${formatRange(range)}, days in ${zone}) · USD at Amazon Bedrock on-demand list prices, or BEDROCK_PRICE_PER_MTOK · ${model}`;
  if (days.length === 0) {
    return { kind: 'answer', title: `AI usage, ${period.label}`, blocks: [{ type: 'text', text: 'No AI answers in this period.' }, { type: 'context', text: footer }] };
  }
  const count = (value: number) => value.toLocaleString('en-US');
  const total = days.reduce((sum, day) => ({ answers: sum.answers + day.answers, usage: addUsage(sum.usage, day.usage), nano: sum.nano + day.costNanoUsd, unpriced: sum.unpriced + day.unpriced }), {
    answers: 0,
    usage: NO_USAGE,
    nano: 0n,
    unpriced: 0,
  });
  const cost = (nano: bigint, unpriced: number) => `${formatNanoUsd(nano)}${unpriced > 0 ? ` + ${unpriced} unpriced` : ''}`;
  return {
    kind: 'answer',
    title: `AI usage, ${period.label}`,
    blocks: [
      {
        type: 'fields',
        fields: [
          { label: 'AI cost', value: cost(total.nano, total.unpriced) },
          { label: 'Answers', value: count(total.answers) },
          { label: 'Tokens in / out', value: `${count(total.usage.input + total.usage.cacheRead + total.usage.cacheWrite)} / ${count(total.usage.output)}` },
        ],
      },
      {
        type: 'table',
        columns: [
          { title: 'Day', align: 'left' },
          { title: 'Model', align: 'left' },
          { title: 'Answers', align: 'right' },
          { title: 'Input', align: 'right' },
          { title: 'Cached', align: 'right' },
          { title: 'Output', align: 'right' },
          { title: 'Cost', align: 'right' },
        ],
        rows: days.map((day) => [
          day.day,
          day.model,
          count(day.answers),
          count(day.usage.input + day.usage.cacheWrite),
          count(day.usage.cacheRead),
          count(day.usage.output),
          cost(day.costNanoUsd, day.unpriced),
        ]),
        footer: ['Total', '', count(total.answers), count(total.usage.input + total.usage.cacheWrite), count(total.usage.cacheRead), count(total.usage.output), cost(total.nano, total.unpriced)],
      },
      { type: 'context', text: footer },
    ],
  };
}
