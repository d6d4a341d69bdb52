/**
 * Anomaly alerts in Slack: posted with `chat.postMessage`, updated in place with
 * `chat.update` (as the anomaly grows, ends or is decided), with Acknowledge / Snooze /
 * Not an anomaly buttons; who decided is named with a mention under the alert.
 */
import type { webApi } from '@slack/bolt';
import { DeliveryError } from '../../core/errors.js';
import type { AlertMessage, AlertNotifier } from '../../ports.js';
import { renderSlackMessage } from '../../render/slack-blocks.js';
import { deliveryError } from './slack-notifier.js';

const DECIDED: Readonly<Record<string, string>> = {
  acknowledged: 'Acknowledged by',
  snoozed: 'Snoozed by',
  dismissed: 'Marked not an anomaly by',
};

/** An alert as a Slack message: the reply, its buttons, and who decided its status. */
export function renderAlertMessage(message: AlertMessage): ReturnType<typeof renderSlackMessage> {
  const decided = message.decision ? DECIDED[message.decision.status] : undefined;
  // Slack user ids are [A-Z0-9]: nothing to escape in the mention.
  const note = decided && /^[UW][A-Z0-9]+$/.test(message.decision!.userId) ? `${decided} <@${message.decision!.userId}>` : undefined;
  return renderSlackMessage(message.reply, { buttons: message.buttons, ...(note ? { note } : {}) });
}

/** Alerts to Slack through the bot's Web API client. */
export class SlackAlertNotifier implements AlertNotifier {
  readonly platform = 'slack' as const;

  constructor(private readonly client: webApi.WebClient) {}

  async post(conversationId: string, message: AlertMessage): Promise<string> {
    try {
      const result = await this.client.chat.postMessage({ channel: conversationId, ...renderAlertMessage(message) });
      if (result.ts) return result.ts;
    } catch (error) {
      throw deliveryError(error, conversationId);
    }
    throw new DeliveryError('no_message_id', false, 'Slack accepted the alert without a message id.');
  }

  async update(conversationId: string, messageId: string, message: AlertMessage): Promise<void> {
    try {
      await this.client.chat.update({ channel: conversationId, ts: messageId, ...renderAlertMessage(message) });
    } catch (error) {
      throw deliveryError(error, conversationId);
    }
  }
}
