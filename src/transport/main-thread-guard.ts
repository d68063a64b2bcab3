import { isMainThread } from 'node:worker_threads';

import { TransportError } from './transport-error.js';

/**
 * Throws unless running on the main thread. node-datachannel keeps process-wide native
 * state: loading it in a worker thread as well as the main thread, or terminating a worker
 * that holds its objects, aborts the whole process.
 */
export function assertMainThread(what: string, mainThread: boolean = isMainThread): void {
  if (!mainThread) {
    throw new TransportError(
      'wrong_thread',
      `${what} may only be loaded on the main thread; in a worker thread it aborts the process`,
    );
  }
}
