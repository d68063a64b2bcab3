import type { MessagePort } from 'node:worker_threads';

import type { WasmMemory, WasmModule } from '../../src/engine/audio-core.js';
import type { SlotHandle, SlotTableShared } from '../../src/engine/slot-table.js';

/** A call handed to a media worker. Ring pointers address the shared audio memory. */
export interface MediaCallSpec {
  callId: string;
  roomId: string;
  userId: string;
  slot: SlotHandle;
  /** Ring the main thread fills with the caller's RTP packets. */
  inboundRing: number;
  /** Ring the worker fills with RTP packets for the caller. */
  outboundRing: number;
  /** RTP payload type and SSRC of the packets the worker sends. */
  payloadType: number;
  ssrc: number;
}

/** Messages from the main thread to a media worker. */
export type ToWorker =
  | { type: 'add'; call: MediaCallSpec }
  | { type: 'remove'; callId: string; reason: string }
  | { type: 'shutdown' };

/** Messages from a media worker to the main thread. */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'added'; callId: string }
  | { type: 'add_failed'; callId: string; message: string }
  | { type: 'removed'; callId: string }
  /**
   * A call's slot changed in the worker (a limit reached or warned of, a stop raised by the
   * agent): the main thread checks the slot now rather than at its next scan.
   */
  | { type: 'check'; callId: string; detail?: string }
  /** The model the call's agent last reported using. */
  | { type: 'model'; callId: string; model: string }
  /** Lateness of the loop's ticks since the last report, in ms, and the thread's own state. */
  | { type: 'ticks'; count: number; latenessMs: number[]; thread: WorkerThreadStats };

/** What a media worker reports about its own thread with every batch of ticks. */
export interface WorkerThreadStats {
  /** When the figures were read (epoch ms). */
  at: number;
  /** Resident set size of the whole process, in bytes. */
  rss: number;
  /** The worker's own V8 heap, in bytes. */
  heapUsed: number;
  heapTotal: number;
  /** Memory of the worker's C++ objects bound to JS, and of its ArrayBuffers, in bytes. */
  external: number;
  arrayBuffers: number;
  /** Handles and requests keeping the worker's event loop alive. */
  activeHandles: number;
  /** Calls on the worker's loop. */
  calls: number;
  /** Agent WebSocket connections the worker holds open. */
  agents: number;
}

/** How the worker's agents are made; plain data, so it crosses the thread boundary. */
export type AgentSpec =
  | { kind: 'echo'; delayMs: number; tokensPerSecond: number }
  | { kind: 'websocket'; url: string; caFile?: string; connectTimeoutMs?: number };

/** The task a media worker runs for its whole life. */
export interface MediaLoopTask {
  /** Index of the worker's loop, for logs and placement. */
  loop: number;
  port: MessagePort;
  /** The shared audio memory (rings) and its compiled module. */
  memory: WasmMemory;
  module: WasmModule;
  slots: SlotTableShared;
  tickMs: number;
  agent: AgentSpec;
}
