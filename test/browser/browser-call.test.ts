import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startDevStack, type DevStack } from '../../src/dev/dev-stack.js';
import type { DemoState } from '../../src/dev/page/demo-state.js';
import { assertLoopbackOnly } from '../transport/fixtures/loopback-only.js';
import { launchChromium } from './fixtures/chromium.js';

/** A small token budget that the echo of the fake microphone's beeps uses up in seconds. */
const CONFIG = `
[voice]
default_token_limit = 60
hard_stop = true
blocked_users = ["@mallory:localhost"]

[agent]
echo_tokens_per_second = 100
`;

let stack: DevStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
const consoleLines: string[] = [];

beforeAll(async () => {
  assertLoopbackOnly();
  stack = await startDevStack({
    callers: ['demo', 'mallory'],
    overrides: { text: CONFIG, source: 'browser-test.toml' },
  });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

/** The page's state, read in the browser. */
function demoState(page: Page): Promise<DemoState> {
  return page.evaluate(
    () =>
      (globalThis as unknown as { voicebridgeDemo: { state: DemoState } }).voicebridgeDemo.state,
  );
}

async function openPage(caller: string): Promise<Page> {
  const page = await browser.context.newPage();
  page.on('console', (message) => consoleLines.push(`${caller}: ${message.text()}`));
  await page.goto(`${stack.pageUrl}?caller=${caller}`);
  await page
    .waitForFunction(
      () => {
        const state = (globalThis as unknown as { voicebridgeDemo?: { state: DemoState } })
          .voicebridgeDemo?.state;
        return state !== undefined && (state.ready || state.error !== undefined);
      },
      undefined,
      { timeout: 20_000 },
    )
    .catch((error: unknown) => {
      console.log(consoleLines.join('\n'));
      throw error;
    });
  return page;
}

describe('a real browser calling the bridge', () => {
  it('connects, carries the echo both ways, and is hung up at its token budget', async () => {
    const page = await openPage('demo');
    expect((await demoState(page)).error).toBeUndefined();
    await page.click('#call');
    const started = Date.now();
    for (let i = 0; i < 300; i++) {
      const state = await demoState(page);
      if (i % 4 === 0) console.log(Date.now() - started, JSON.stringify(state));
      if (
        state.callState === 'ended' &&
        state.bridge?.state !== 'live' &&
        state.bridge !== undefined
      )
        break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    console.log(
      consoleLines
        .filter((l) => /error|warn|fail/i.test(l))
        .slice(-40)
        .join('\n'),
    );
  }, 120_000);
});
