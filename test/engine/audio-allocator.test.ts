import { describe, expect, it } from 'vitest';

import { AudioCoreError, RegionAllocator, createAudioMemory } from '../../src/engine/audio-core.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof AudioCoreError ? error.code : 'not an AudioCoreError';
  }
  return undefined;
}

describe('RegionAllocator', () => {
  it('hands out aligned regions that never overlap', () => {
    const memory = createAudioMemory({ initialPages: 2 });
    const allocator = new RegionAllocator(memory, { start: 1024 });
    const regions = [100, 1, 64, 65, 4000, 7].map((bytes) => ({
      ptr: allocator.alloc(bytes),
      bytes,
    }));

    for (const r of regions) expect(r.ptr % 64).toBe(0);
    const sorted = [...regions].sort((a, b) => a.ptr - b.ptr);
    for (let i = 1; i < sorted.length; i++) {
      expect(sorted[i]!.ptr).toBeGreaterThanOrEqual(sorted[i - 1]!.ptr + sorted[i - 1]!.bytes);
    }
    expect(allocator.alloc(10, 4096) % 4096).toBe(0);
  });

  it('grows the memory when a region does not fit', () => {
    const memory = createAudioMemory({ initialPages: 1, maximumPages: 8 });
    const allocator = new RegionAllocator(memory, { start: 1024 });
    const ptr = allocator.alloc(200_000);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(ptr + 200_000);
  });

  it('says out of memory when the memory cannot grow that far', () => {
    const memory = createAudioMemory({ initialPages: 1, maximumPages: 2 });
    const allocator = new RegionAllocator(memory, { start: 1024 });
    expect(codeOf(() => allocator.alloc(200_000))).toBe('out_of_memory');
    // A failed request leaves the allocator as it was.
    expect(allocator.usedBytes).toBe(0);
    expect(allocator.alloc(1000)).toBe(1024);
  });

  it('stays inside a fixed span and never grows the memory for it', () => {
    const memory = createAudioMemory({ initialPages: 1, maximumPages: 8 });
    const allocator = new RegionAllocator(memory, { start: 4096, end: 8192 });
    expect(allocator.alloc(4000)).toBe(4096);
    expect(codeOf(() => allocator.alloc(200))).toBe('out_of_memory');
    expect(memory.buffer.byteLength).toBe(65_536);
  });

  it('reuses a released region for the next request of the same size', () => {
    const memory = createAudioMemory({ initialPages: 1 });
    const allocator = new RegionAllocator(memory, { start: 1024 });
    const first = allocator.alloc(5000);
    allocator.alloc(100);
    allocator.release(first);
    expect(allocator.liveRegions).toBe(1);
    expect(allocator.alloc(4000)).not.toBe(first);
    expect(allocator.alloc(5000)).toBe(first);
  });

  it('refuses to release a pointer it never handed out, or one released already', () => {
    const memory = createAudioMemory({ initialPages: 1 });
    const allocator = new RegionAllocator(memory, { start: 1024 });
    const ptr = allocator.alloc(10);
    expect(codeOf(() => allocator.release(ptr + 64))).toBe('unknown_region');
    allocator.release(ptr);
    expect(codeOf(() => allocator.release(ptr))).toBe('unknown_region');
  });

  it('names the bad value when asked for an impossible region', () => {
    const memory = createAudioMemory({ initialPages: 1 });
    const allocator = new RegionAllocator(memory, { start: 1024 });
    expect(() => allocator.alloc(0)).toThrow(/bytes .* got 0/);
    expect(() => allocator.alloc(10, 48)).toThrow(/align .* got 48/);
    expect(() => new RegionAllocator(memory, { start: 2048, end: 1024 })).toThrow(
      /end .* got 1024/,
    );
  });
});
