import { describe, expect, it } from 'vitest';

import { DEFAULT_THRESHOLDS, soakOptionsFrom } from '../../soak/soak-options.js';

describe('soakOptionsFrom', () => {
  it('takes the defaults of the hardening guide', () => {
    const options = soakOptionsFrom({}, []);
    expect(options.durationS).toBe(3600);
    expect(options.warmupS).toBe(600);
    expect(options.sampleIntervalS).toBe(15);
    expect(options.thresholds).toEqual(DEFAULT_THRESHOLDS);
    expect(options.thresholds).toMatchObject({ warnMb: 50, failMb: 100, maxFailedPercent: 10 });
  });

  it('reads the environment and --out', () => {
    const options = soakOptionsFrom(
      { TEST_DURATION: '60', CALL_ROTATION: '5', CONCURRENT_CALLS: '4', SAMPLE_INTERVAL: '1' },
      ['--out', 'run-a'],
    );
    expect(options).toMatchObject({
      durationS: 60,
      rotationS: 5,
      concurrentCalls: 4,
      sampleIntervalS: 1,
      warmupS: 12,
      outDir: 'run-a',
    });
  });

  it.each([
    ['TEST_DURATION', 'ten', 'TEST_DURATION must be a number, got "ten"'],
    ['TEST_DURATION', '-5', 'TEST_DURATION must be from 1 to 2592000, got "-5"'],
    ['TEST_DURATION', '0', 'TEST_DURATION must be from 1 to 2592000, got "0"'],
    ['CALL_ROTATION', '1e999', 'CALL_ROTATION must be a number, got "1e999"'],
    ['CONCURRENT_CALLS', '2.5', 'CONCURRENT_CALLS must be an integer, got "2.5"'],
    ['CONCURRENT_CALLS', '0', 'CONCURRENT_CALLS must be from 1 to 500, got "0"'],
    ['SAMPLE_INTERVAL', 'NaN', 'SAMPLE_INTERVAL must be a number, got "NaN"'],
    ['LEAK_FAIL_MB', '10', 'LEAK_FAIL_MB (10) must not be below LEAK_WARN_MB (50)'],
    ['HEAP_SNAPSHOTS', 'yes', 'HEAP_SNAPSHOTS must be 1 or 0, got "yes"'],
  ])('refuses %s=%s, naming the variable and the value', (name, value, message) => {
    expect(() => soakOptionsFrom({ [name]: value }, [])).toThrow(message);
  });

  it('refuses a warm-up as long as the run, too few samples after it, and stray arguments', () => {
    expect(() => soakOptionsFrom({ TEST_DURATION: '30', WARMUP: '30' }, [])).toThrow(
      'WARMUP (30 s) must be shorter than TEST_DURATION (30 s)',
    );
    expect(() =>
      soakOptionsFrom({ TEST_DURATION: '30', WARMUP: '20', SAMPLE_INTERVAL: '5' }, []),
    ).toThrow('SAMPLE_INTERVAL (5 s) leaves fewer than 3 samples');
    expect(() => soakOptionsFrom({}, ['--out'])).toThrow('--out needs a folder');
    expect(() => soakOptionsFrom({}, ['--fast'])).toThrow('unknown argument "--fast"');
  });
});
