// The audio core: rings, jitter buffer and level meter over one shared memory. Every export
// takes the address of its structure, so any number of instances (one per thread) can work
// on the same memory. The module keeps no state of its own and has no static data (no
// strings, no lookup tables, no allocations): instantiating it in another thread writes
// nothing into the memory the running threads use.

export * from './packet-ring';
export * from './pcm-ring';
export * from './jitter-buffer';
export * from './jitter-stats';
export * from './level-meter';

/** First byte past the module's static data; memory from here on is free for structures. */
export function heapBase(): usize {
  return __heap_base;
}
