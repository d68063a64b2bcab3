import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { CandidateBatcher, type LocalCandidate } from '../../src/transport/candidate-batcher.js';

const line = (n: number): string =>
  `a=candidate:${n} 1 UDP 2114977791 127.0.0.1 ${50_000 + n} typ host`;
const entry = (n: number): LocalCandidate => ({
  candidate: line(n).slice(2),
  sdpMid: 'audio',
  sdpMLineIndex: 0,
});
const END: LocalCandidate = { candidate: '', sdpMid: 'audio', sdpMLineIndex: 0 };

describe('CandidateBatcher', () => {
  let batches: LocalCandidate[][];
  let batcher: CandidateBatcher;

  beforeEach(() => {
    vi.useFakeTimers();
    batches = [];
    batcher = new CandidateBatcher(100, 'audio', 0, (batch) => batches.push(batch));
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('holds candidates until released, then delivers them in one batch', () => {
    batcher.add(line(1));
    batcher.add(line(2));
    vi.advanceTimersByTime(1_000);
    expect(batches).toEqual([]);

    batcher.release();
    batcher.add(line(3));
    vi.advanceTimersByTime(100);

    expect(batches).toEqual([[entry(1), entry(2), entry(3)]]);
  });

  it('puts candidates that come after a batch into the next one', () => {
    batcher.release();
    batcher.add(line(1));
    vi.advanceTimersByTime(100);
    batcher.add(line(2));
    batcher.add(line(3));
    vi.advanceTimersByTime(100);

    expect(batches).toEqual([[entry(1)], [entry(2), entry(3)]]);
  });

  it('ends the last batch with end-of-candidates once gathering is complete', () => {
    batcher.release();
    batcher.add(line(1));
    batcher.add(line(2));
    batcher.complete(2);
    vi.advanceTimersByTime(100);

    expect(batches).toEqual([[entry(1), entry(2), END]]);
  });

  it('waits for candidates still on their way when gathering completes first', () => {
    batcher.release();
    batcher.add(line(1));
    batcher.complete(3);
    vi.advanceTimersByTime(100);
    batcher.add(line(2));
    batcher.add(line(3));
    vi.advanceTimersByTime(100);

    expect(batches).toEqual([[entry(1)], [entry(2), entry(3), END]]);
  });

  it('sends end-of-candidates alone when every candidate already went out', () => {
    batcher.release();
    batcher.add(line(1));
    vi.advanceTimersByTime(100);
    batcher.complete(1);
    vi.advanceTimersByTime(100);

    expect(batches).toEqual([[entry(1)], [END]]);
  });

  it('delivers nothing once stopped', () => {
    batcher.release();
    batcher.add(line(1));
    batcher.stop();
    batcher.add(line(2));
    batcher.complete(2);
    vi.advanceTimersByTime(1_000);

    expect(batches).toEqual([]);
  });
});
