/**
 * `subscribe daily|weekly [for TEAM]`, `unsubscribe …` and `subscriptions`: which digests
 * the conversation the command was typed in receives, and how their last delivery went.
 */
import { FinOpsError } from '../../core/errors.js';
import type { Reply } from '../../core/reply.js';
import type { DeliveryRecord, Platform, Subscription, SubscriptionStore } from '../../ports.js';
import type { Command } from '../command.js';
import { formatInstant, type HandlerDeps, resolveTeam } from '../report-context.js';

/** Where a subscription command was typed. */
export interface ConversationContext {
  readonly channel: 'console' | Platform;
  readonly userId?: string | undefined;
  readonly conversationId?: string | undefined;
}

/** What the subscription handlers need besides the cost store. */
export interface SubscriptionDeps extends HandlerDeps {
  readonly subscriptions: SubscriptionStore;
}

/** Answers `subscribe` and `unsubscribe`. */
export async function handleSubscribe(
  deps: SubscriptionDeps,
  command: Extract<Command, { name: 'subscribe' | 'unsubscribe' }>,
  context: ConversationContext,
): Promise<Reply> {
  const conversation = conversationOf(context);
  const team = command.team === undefined ? undefined : await resolveTeam(deps, command.team);
  const what = `the ${command.cadence} digest for ${teamName(team)}`;
  const target = { ...conversation, cadence: command.cadence, team };
  if (command.name === 'unsubscribe') {
    const removed = await deps.subscriptions.unsubscribe(target);
    return {
      kind: 'answer',
      title: removed ? 'Unsubscribed' : 'Nothing to unsubscribe',
      blocks: [{ type: 'text', text: removed ? `This channel will no longer receive ${what}.` : `This channel was not receiving ${what}. \`subscriptions\` lists what it receives.` }],
    };
  }
  // A channel keeps one time zone: what it was given last, else the bot's.
  const existing = await deps.subscriptions.listFor(conversation.platform, conversation.conversationId);
  const timeZone = (command.name === 'subscribe' ? command.timeZone : undefined) ?? existing[0]?.subscription.timeZone ?? deps.settings.timeZone;
  const result = await deps.subscriptions.subscribe({ ...target, timeZone, createdBy: context.userId ?? 'unknown' });
  const { created } = result;
  let { subscription } = result;
  // The channel's other digests move with it.
  const channelDigests = new Map([subscription, ...existing.map((entry) => entry.subscription)].map((other) => [other.id, other]));
  for (const other of channelDigests.values()) {
    if (other.timeZone !== timeZone) await deps.subscriptions.changeTimeZone(other.id, timeZone);
  }
  subscription = { ...subscription, timeZone };
  const moved = existing.some((entry) => entry.subscription.id !== subscription.id && entry.subscription.timeZone !== timeZone);
  return {
    kind: 'answer',
    title: created ? 'Subscribed' : 'Already subscribed',
    blocks: [
      { type: 'text', text: `${created ? 'This channel will receive' : 'This channel already receives'} ${what}, ${scheduleText(subscription)}.${moved ? ` Its other digests now follow ${timeZone} too.` : ''}` },
      { type: 'context', text: `Preview it now with \`digest ${command.cadence}${team === undefined ? '' : ` for ${quoteTeam(team)}`}\`; stop it with \`unsubscribe ${command.cadence}${team === undefined ? '' : ` for ${quoteTeam(team)}`}\`.` },
    ],
  };
}

/** Answers `subscriptions`: this conversation's digests and how each last went. */
export async function handleSubscriptions(deps: SubscriptionDeps, context: ConversationContext): Promise<Reply> {
  const conversation = conversationOf(context);
  const listed = await deps.subscriptions.listFor(conversation.platform, conversation.conversationId);
  if (listed.length === 0) {
    return { kind: 'answer', title: 'Subscriptions', blocks: [{ type: 'text', text: 'This channel receives no digests. Try `subscribe daily` or `subscribe weekly for TEAM`.' }] };
  }
  return {
    kind: 'answer',
    title: 'Subscriptions',
    blocks: [
      {
        type: 'table',
        columns: [
          { title: 'Digest', align: 'left' },
          { title: 'For', align: 'left' },
          { title: 'Time zone', align: 'left' },
          { title: 'Last delivery', align: 'left' },
        ],
        rows: listed.map(({ subscription, lastDelivery }) => [subscription.cadence, teamName(subscription.team), subscription.timeZone, deliveryText(deps, subscription, lastDelivery)]),
      },
      { type: 'context', text: scheduleNote(deps) },
    ],
  };
}

function conversationOf(context: ConversationContext): { platform: Platform; conversationId: string } {
  if (context.channel === 'console' || !context.conversationId) {
    throw new FinOpsError('command_invalid', 'Subscriptions belong to a channel: type this in the Slack or Teams channel that should receive the digest.');
  }
  return { platform: context.channel, conversationId: context.conversationId };
}

function deliveryText(deps: HandlerDeps, subscription: Subscription, delivery: DeliveryRecord | undefined): string {
  if (subscription.problem) {
    return `⚠ failed: ${subscription.problem}${subscription.problemAt ? ` (${formatInstant(subscription.problemAt, deps.settings.timeZone)})` : ''}; fix it and the next one is retried`;
  }
  if (!delivery) return 'none yet';
  const period = delivery.periodKey.replace(/^\w+:/, '');
  switch (delivery.status) {
    case 'posted':
      return `${period}, posted${delivery.postedAt ? ` ${formatInstant(delivery.postedAt, deps.settings.timeZone)}` : ''}`;
    case 'failed':
      return `${period}, failed (${delivery.error ?? 'unknown'}); will retry`;
    case 'gave_up':
      return `${period}, not delivered (${delivery.error ?? 'unknown'})`;
    case 'pending':
      return delivery.error ? `${period}, waiting: ${delivery.error}` : `${period}, due`;
    default:
      return `${period}, being posted`;
  }
}

function scheduleText(subscription: Subscription): string {
  return `${subscription.cadence === 'daily' ? 'every day' : 'every week'} (times in ${subscription.timeZone})`;
}

function scheduleNote(deps: HandlerDeps): string {
  const schedule = deps.settings.digestSchedule;
  return schedule
    ? `Daily digests go out at \`${schedule.daily}\`, weekly ones at \`${schedule.weekly}\` (cron, in each subscription's time zone).`
    : "Digests go out on the bot's schedule, in each subscription's time zone.";
}

function teamName(team: string | undefined): string {
  if (team === undefined) return 'the whole organisation';
  return team === '' ? 'spend without a team tag' : team;
}

function quoteTeam(team: string): string {
  if (team === '') return 'untagged';
  return /\s/.test(team) ? `"${team}"` : team;
}
