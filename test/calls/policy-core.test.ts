import { describe, expect, it } from 'vitest';

import { callFrom } from '../policy/helpers.js';
import { coreWith } from './core-fixture.js';

describe('policy core enforcement', () => {
  it('checks limits and sweeps the rate limit on its interval until stopped', async () => {
    const core = coreWith({
      rate_limit_window: 1_000,
      ttl: {
        default_ttl: 1,
        max_ttl: 3_600_000,
        enforcement_interval: 10,
        warning_threshold: 0.9,
        hard_stop: true,
      },
    });
    const stops: string[] = [];
    core.sessions.onStop((_, reason) => stops.push(reason));
    core.gate.start(callFrom('@a:example.org'));
    core.clock.advance(1_000);
    expect(core.enforcer.rateLimitState.activeUsers).toBe(1);

    const stop = core.startEnforcement();
    await new Promise((resolve) => setTimeout(resolve, 100));
    stop();
    expect(stops).toEqual(['ttl_expired']);
    expect(core.enforcer.rateLimitState.activeUsers).toBe(0);
  });
});
