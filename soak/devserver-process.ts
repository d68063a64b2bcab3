/**
 * The development homeserver in a process of its own, for the soak runner: the homeserver
 * keeps every event in memory, and in the soak process that growth would pass for the
 * bridge's. Started by `startDevServerProcess`; it says `{type:'listening', url, caPem}` over
 * IPC, and closes and exits on `{type:'stop'}` or when its parent goes away.
 */
import { startDevServer } from '../src/devserver/index.js';

if (process.send === undefined) {
  process.stderr.write('devserver-process: must be started with an IPC channel\n');
  process.exit(2);
}

const server = await startDevServer();
let closing = false;
const close = async (): Promise<void> => {
  if (closing) return;
  closing = true;
  await server.close();
  process.exit(0);
};
process.on('message', (message: unknown) => {
  if ((message as { type?: unknown } | null)?.type === 'stop') void close();
});
process.on('disconnect', () => void close());
process.send({ type: 'listening', url: server.url, caPem: server.caPem });
