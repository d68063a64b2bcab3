import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AuditStore } from '../../src/audit/audit-store.js';
import { startDevStack, type DevStack } from '../../src/dev/dev-stack.js';
import type { BridgeCall, DemoState, LiveCall } from '../../src/dev/page/demo-state.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';
import { launchChromium } from './fixtures/chromium.js';

/**
 * A token budget that the echo of the fake microphone's beep uses up in a few seconds (the
 * echo agent counts its rate each way, for voiced audio only), and a blocked caller.
 */
const TOKEN_LIMIT = 300;
const CONFIG = `
[voice]
default_token_limit = ${TOKEN_LIMIT}
hard_stop = true
blocked_users = ["@mallory:localhost"]

[agent]
echo_tokens_per_second = 50
`;

let stack: DevStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
/** The browser's console, shown when a wait fails. */
const consoleLines: string[] = [];

beforeAll(async () => {
  assertLoopbackOnly();
  stack = await startDevStack({
    callers: ['demo', 'mallory'],
    overrides: { text: CONFIG, source: 'browser-test.toml' },
  });
  browser = await launchChromium();
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
}, 30_000);

/** The page's state, read in the browser. */
function demoState(page: Page): Promise<DemoState> {
  return page.evaluate(
    () =>
      (globalThis as unknown as { voicebridgeDemo: { state: DemoState } }).voicebridgeDemo.state,
  );
}

/** Polls the page until `done` holds for its state; the console is shown if it never does. */
async function waitForState(
  page: Page,
  what: string,
  done: (state: DemoState) => boolean,
  timeoutMs = 20_000,
): Promise<DemoState> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const state = await demoState(page);
    if (done(state)) return state;
    if (state.error !== undefined || Date.now() > until) {
      throw new Error(
        `gave up waiting for ${what}: ${JSON.stringify(state)}\n${consoleLines.slice(-30).join('\n')}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Opens the demo page as `caller` and waits for its Matrix client to be ready. */
async function openPage(caller: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('console', (message) => consoleLines.push(`${caller}: ${message.text()}`));
  await page.goto(`${stack.pageUrl}?caller=${caller}`);
  await page.waitForFunction(
    () => (globalThis as { voicebridgeDemo?: unknown }).voicebridgeDemo !== undefined,
  );
  await waitForState(page, `${caller}'s client`, (state) => state.ready);
  return page;
}

/** The admin API, through the page server's proxy, as the page itself reaches it. */
async function admin<T>(path: string): Promise<T> {
  const answer = await fetch(new URL(path, stack.pageUrl));
  if (!answer.ok) throw new Error(`${path} answered ${answer.status}`);
  return (await answer.json()) as T;
}

/** The call ids the two calls got, for the audit and metrics checks. */
const callIds: { budget?: string; hungUp?: string; blocked?: string } = {};

describe('a real browser calling the bridge through the development homeserver', () => {
  it('connects in the encrypted room, carries the echo both ways, and is hung up at its token budget', async () => {
    const page = await openPage('demo');
    const clicked = performance.now();
    await page.click('#call');
    const connected = await waitForState(
      page,
      'the call to connect',
      (s) => s.callState === 'connected',
    );
    const connectMs = performance.now() - clicked;
    const callId = connected.callId as string;
    callIds.budget = callId;

    // The bridge's side while the call lives: its media counters, from the admin API.
    let bridgeMedia: LiveCall['media'] | undefined;
    let lastLive: LiveCall | undefined;
    for (let i = 0; i < 200; i++) {
      const answer = await admin<BridgeCall>(`api/calls/${encodeURIComponent(callId)}`);
      if (answer.state !== 'live') break;
      lastLive = answer.call;
      bridgeMedia = answer.call.media;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(bridgeMedia?.packets_in).toBeGreaterThan(0);
    expect(bridgeMedia?.packets_out).toBeGreaterThan(0);
    expect(lastLive?.token_limit).toBe(TOKEN_LIMIT);

    const ended = await waitForState(
      page,
      'the hangup at the budget',
      (s) => s.callState === 'ended' && s.bridgeReason !== undefined && s.bridge?.state === 'ended',
    );
    // The browser sent and received RTP, and the echo came back as decoded audio.
    expect(ended.media?.packetsSent).toBeGreaterThan(0);
    expect(ended.media?.packetsReceived).toBeGreaterThan(0);
    expect(ended.media?.maxAudioLevel).toBeGreaterThan(0);
    expect(ended.media?.totalAudioEnergy).toBeGreaterThan(0);
    // The bridge hung up (MatrixCall saw the remote party end it) and said why.
    expect(ended.hangupParty).toBe('remote');
    expect(ended.hangupReason).toBe('user_hangup');
    expect(ended.bridgeEvent).toBe('m.call.hangup');
    expect(ended.bridgeEventEncrypted).toBe(true);
    expect(ended.bridgeReason).toBe('budget_exceeded');
    expect(ended.bridge).toMatchObject({ state: 'ended', call: { end_reason: 'budget_exceeded' } });
    expect(await page.textContent('#reason')).toContain('budget_exceeded');
    await page.close();
    if (ended.bridge?.state === 'ended') {
      console.info(
        `browser call: connected ${connectMs.toFixed(0)} ms after Call; ` +
          `browser sent ${ended.media?.packetsSent} and received ${ended.media?.packetsReceived} ` +
          `RTP packets (bridge: ${bridgeMedia?.packets_in} in, ${bridgeMedia?.packets_out} out); ` +
          `the ${TOKEN_LIMIT}-token budget ended the call after ${ended.bridge.call.duration} ms`,
      );
    }
  }, 40_000);

  it("records the caller's own hangup as the caller's, though the browser closes its connection first", async () => {
    const page = await openPage('demo');
    await page.click('#call');
    const flowing = await waitForState(
      page,
      'the echo to arrive',
      (s) => s.callState === 'connected' && (s.media?.packetsReceived ?? 0) > 0,
    );
    callIds.hungUp = flowing.callId;
    await page.click('#hangup');
    const ended = await waitForState(
      page,
      'the record of the hangup',
      (s) => s.callState === 'ended' && s.bridge !== undefined && s.bridge.state !== 'live',
    );
    expect(ended.hangupParty).toBe('local');
    expect(ended.bridgeEvent).toBeUndefined();
    expect(ended.bridge).toMatchObject({ state: 'ended', call: { end_reason: 'caller_hangup' } });
    await page.close();
  });

  it('refuses a blocked caller, and the browser sees the refusal and its reason', async () => {
    const page = await openPage('mallory');
    await page.click('#call');
    const refused = await waitForState(
      page,
      'the refusal',
      (s) => s.callState === 'ended' && s.bridgeReason !== undefined && s.bridge !== undefined,
    );
    callIds.blocked = refused.callId;
    expect(refused.hangupParty).toBe('remote');
    expect(refused.bridgeEvent).toBe('m.call.reject');
    expect(refused.bridgeEventEncrypted).toBe(true);
    expect(refused.bridgeReason).toBe('user_blocked');
    expect(refused.media?.packetsReceived ?? 0).toBe(0);
    expect(refused.bridge).toMatchObject({ state: 'denied', call: { end_reason: 'user_blocked' } });
    await page.close();
  }, 30_000);

  it('keeps the audit records and counts the calls in the metrics', async () => {
    const { budget, blocked } = callIds;
    expect(budget).toBeDefined();
    expect(callIds.hungUp).toBeDefined();
    expect(blocked).toBeDefined();
    const demo = stack.callers.get('demo');
    const mallory = stack.callers.get('mallory');

    const audit = AuditStore.openReadOnly(stack.config.audit.path);
    try {
      const [ended] = audit.ofCall(budget as string, 1);
      expect(ended).toMatchObject({
        caller: demo?.userId,
        callee: stack.botUserId,
        room_id: demo?.roomId,
        state: 'ended',
        end_reason: 'budget_exceeded',
      });
      const used = (ended?.token_usage.input_tokens ?? 0) + (ended?.token_usage.output_tokens ?? 0);
      expect(used).toBeGreaterThanOrEqual(TOKEN_LIMIT);
      expect(ended?.duration).toBeGreaterThan(0);
      expect(ended?.events.map((e) => e.event)).toContain('voice_budget_enforced');

      expect(audit.ofCall(callIds.hungUp as string, 1)[0]).toMatchObject({
        caller: demo?.userId,
        state: 'ended',
        end_reason: 'caller_hangup',
      });

      const [denied] = audit.ofCall(blocked as string, 1);
      expect(denied).toMatchObject({
        caller: mallory?.userId,
        callee: stack.botUserId,
        room_id: mallory?.roomId,
        state: 'denied',
        end_reason: 'user_blocked',
        duration: 0,
      });
      expect(denied?.policy_version).toBe(ended?.policy_version);
      expect(audit.verify().ok).toBe(true);
    } finally {
      audit.close();
    }

    // Nothing is left holding a slot.
    expect(await admin('api/calls')).toMatchObject({ count: 0, calls: [] });
    const metrics = await (await fetch(new URL('/metrics', stack.bridge.admin?.url))).text();
    expect(metrics).toMatch(/^voicebridge_calls_ended_total\{reason="caller_hangup"\} 1$/m);
    expect(metrics).not.toMatch(/^voicebridge_calls_failed_total\{/m);
    expect(metrics).toMatch(/^voicebridge_active_calls 0$/m);
    expect(metrics).toMatch(/^voicebridge_slots_used 0$/m);
    expect(metrics).toMatch(/^voicebridge_calls_ended_total\{reason="budget_exceeded"\} 1$/m);
    expect(metrics).toMatch(/^voicebridge_calls_denied_total\{reason="user_blocked"\} 1$/m);
    expect(metrics).toMatch(/^voicebridge_budget_enforcements_total\{limit="tokens"\} 1$/m);
  });
});
