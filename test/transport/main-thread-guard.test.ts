import { describe, expect, it } from 'vitest';

import { assertMainThread } from '../../src/transport/main-thread-guard.js';

describe('assertMainThread', () => {
  it('lets the main thread load the library', () => {
    expect(() => assertMainThread('node-datachannel')).not.toThrow();
  });

  it('refuses a worker thread with wrong_thread before anything native loads', () => {
    expect(() => assertMainThread('node-datachannel', false)).toThrow(
      expect.objectContaining({
        code: 'wrong_thread',
        message:
          'node-datachannel may only be loaded on the main thread; in a worker thread it aborts the process',
      }),
    );
  });
});
