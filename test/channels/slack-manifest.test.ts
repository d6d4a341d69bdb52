/**
 * The Slack app manifest a user pastes into "Create app → From a manifest" must install the
 * app as the code expects it: the command it registers, the events it listens to, the one
 * route it serves, and exactly the OAuth scopes its Web API calls and events need.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SLACK_EVENTS_PATH } from '../../src/channels/slack/slack-channel.js';
import { SHARE_ACTION_ID, SLASH_COMMAND, SUBSCRIBED_EVENTS } from '../../src/channels/slack/slack-listeners.js';

interface Manifest {
  display_information: { name: string; description: string; long_description?: string };
  features: {
    app_home: { home_tab_enabled: boolean; messages_tab_enabled: boolean; messages_tab_read_only_enabled: boolean };
    bot_user: { display_name: string };
    slash_commands: { command: string; url: string; description: string; usage_hint?: string; should_escape?: boolean }[];
  };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: {
    event_subscriptions: { request_url: string; bot_events: string[] };
    interactivity: { is_enabled: boolean; request_url: string };
    socket_mode_enabled: boolean;
  };
}

const manifest = parse(readFileSync('manifests/slack-app.yaml', 'utf8')) as Manifest;

/** The bot scope each Web API method needs (methods that need none map to undefined). */
const METHOD_SCOPES: Readonly<Record<string, string | undefined>> = {
  'auth.test': undefined,
  'chat.postMessage': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.update': 'chat:write',
  'chat.startStream': 'chat:write',
  'assistant.threads.setStatus': 'assistant:write',
  'views.publish': undefined,
  'files.uploadV2': 'files:write',
  'views.open': undefined,
  'usergroups.users.list': 'usergroups:read',
};

/** The bot scope each subscribed event needs. */
const EVENT_SCOPES: Readonly<Record<string, string | undefined>> = {
  app_mention: 'app_mentions:read',
  'message.im': 'im:history',
  'message.channels': 'channels:history',
  'message.groups': 'groups:history',
  app_home_opened: undefined,
  assistant_thread_started: 'assistant:write',
  assistant_thread_context_changed: 'assistant:write',
};

/** Web API methods the Slack channel calls, read from its source (`client.chat.postMessage(`, `client.auth.test(`). */
function methodsCalled(): string[] {
  const dir = 'src/channels/slack';
  const methods = new Set<string>();
  for (const file of readdirSync(dir)) {
    const text = readFileSync(join(dir, file), 'utf8');
    for (const match of text.matchAll(/\bclient\.([a-z]+(?:\.[a-z]+)*)\.([A-Za-z]+)\(/g)) methods.add(`${match[1]}.${match[2]}`);
    // The client's streaming helper: chatStream starts, appends to and stops chat streams.
    if (/\bclient\.chatStream\(/.test(text)) methods.add('chat.startStream');
    // The client's own helpers: filesUploadV2 is files.uploadV2.
    for (const match of text.matchAll(/\bclient\.([a-z]+)(UploadV2)\(/g)) methods.add(`${match[1]}.uploadV2`);
  }
  return [...methods].sort();
}

describe('manifests/slack-app.yaml', () => {
  it('registers the slash command the code listens for, on the route the server serves', () => {
    expect(manifest.features.slash_commands.map((command) => command.command)).toEqual([SLASH_COMMAND]);
    const [command] = manifest.features.slash_commands;
    expect(new URL(command!.url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(command!.description.length).toBeLessThanOrEqual(100);
    // Mentions typed after `approvers add` must arrive as ids (<@U…|name>), not as plain @names.
    expect(command!.should_escape).toBe(true);
  });

  it('subscribes to exactly the events the code handles, and sends events and clicks to the same route', () => {
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual([...SUBSCRIBED_EVENTS].sort());
    expect(new URL(manifest.settings.event_subscriptions.request_url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(new URL(manifest.settings.interactivity.request_url).pathname).toBe(SLACK_EVENTS_PATH);
    expect(SHARE_ACTION_ID).toMatch(/^[a-z_]+$/);
  });

  it('uses a placeholder host, never a real one', () => {
    const urls = [manifest.settings.event_subscriptions.request_url, manifest.settings.interactivity.request_url, ...manifest.features.slash_commands.map((command) => command.url)];
    for (const url of urls) expect(new URL(url).host).toBe('finops.example.com');
  });

  it('asks for the scopes the code uses and no more', () => {
    const called = methodsCalled();
    expect(called.length).toBeGreaterThan(0);
    const unknown = called.filter((method) => !(method in METHOD_SCOPES));
    expect(unknown, 'a Web API method without an entry in METHOD_SCOPES: add the scope it needs').toEqual([]);
    const needed = new Set<string>(['commands']);
    for (const method of called) if (METHOD_SCOPES[method]) needed.add(METHOD_SCOPES[method]!);
    for (const event of SUBSCRIBED_EVENTS) if (EVENT_SCOPES[event]) needed.add(EVENT_SCOPES[event]!);
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual([...needed].sort());
    expect(manifest.oauth_config.scopes.user ?? []).toEqual([]);
  });

  it('turns on the App Home tab the code publishes and the Messages tab it answers in', () => {
    expect(manifest.features.app_home.home_tab_enabled).toBe(SUBSCRIBED_EVENTS.includes('app_home_opened'));
    expect(manifest.features.app_home.messages_tab_enabled).toBe(SUBSCRIBED_EVENTS.includes('message.im'));
    expect(manifest.features.app_home.messages_tab_read_only_enabled).toBe(false);
  });

  it('stays within Slack’s manifest limits', () => {
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    expect(manifest.display_information.description.length).toBeLessThanOrEqual(140);
    expect(manifest.display_information.long_description!.length).toBeGreaterThanOrEqual(175);
    expect(manifest.display_information.long_description!.length).toBeLessThanOrEqual(4000);
    expect(manifest.features.bot_user.display_name.length).toBeLessThanOrEqual(80);
    expect(manifest.settings.socket_mode_enabled).toBe(false);
  });
});
