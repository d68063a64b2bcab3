import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { typescriptExecArgv } from '../codec/typescript-worker.js';
import { until } from './agent-fixtures.js';
import type { AgentWorkerData, AgentWorkerOpen, AgentWorkerReport } from './agent-worker.js';
import { ReferenceAgentServer } from './reference-agent-server.js';

const execArgv = typescriptExecArgv([
  new URL('../../../workers/agents/', import.meta.url),
  new URL('./', import.meta.url),
]);

let server: ReferenceAgentServer;
const workers: Worker[] = [];

beforeEach(async () => {
  server = await ReferenceAgentServer.start();
});

afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.terminate();
  await server.close();
});

function startWorker(data: AgentWorkerData): Worker {
  const worker = new Worker(new URL('./agent-worker.ts', import.meta.url), {
    execArgv,
    workerData: data,
  });
  workers.push(worker);
  return worker;
}

async function reportOf(worker: Worker): Promise<AgentWorkerReport> {
  for (;;) {
    const [message] = (await once(worker, 'message')) as [AgentWorkerOpen | AgentWorkerReport];
    if (message.kind === 'report') return message;
  }
}

describe('WebSocket agent in a worker thread driven by a 20 ms tick', () => {
  it('round-trips every frame of a tick loop and counts the usage', async () => {
    const report = await reportOf(startWorker({ url: server.url('echo'), frames: 100 }));

    expect(report).toMatchObject({ echoed: 100, mismatched: 0, errors: [], inputTokens: 100 });
    expect(report.stats.fromAgent.dropped).toBe(0);
  });

  it('reports a misbehaving agent to its loop, and the worker lives on', async () => {
    const worker = startWorker({ url: server.url('garbage'), frames: 100 });
    const exited: number[] = [];
    worker.on('exit', (code) => exited.push(code));

    const report = await reportOf(worker);

    expect(report.errors).toEqual(['malformed_message']);
    expect(exited).toEqual([]);
  });

  it('drops the connection, and nothing else, when the worker is terminated mid-call', async () => {
    const worker = startWorker({ url: server.url('echo'), frames: 1_000_000 });
    await once(worker, 'message');
    await until(() => (server.connections[0]?.framesHeard ?? 0) > 0, 'audio at the server');

    await worker.terminate();
    await until(() => server.connections[0]?.closeCode !== undefined, 'the server to see it');

    expect(server.connections[0]?.closeCode).toBe(1006);
    // A reset may show up as a socket error at the server; nothing else may.
    const violations = server.connections[0]?.violations ?? [];
    expect(violations.filter((violation) => !violation.startsWith('socket error'))).toEqual([]);
  });
});
