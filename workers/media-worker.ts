// The entry of every media worker thread (a Piscina task that runs for the worker's life).
// Never import the WebRTC library (or anything that loads it) here or below: it must only
// ever load on the main thread.
import { runMediaLoop } from './media/media-loop.js';
import type { MediaLoopTask } from './media/media-messages.js';

/** Runs the worker's media loop until the main thread shuts it down. */
export default function mediaWorker(task: MediaLoopTask): Promise<void> {
  return runMediaLoop(task);
}
