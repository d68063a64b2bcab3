import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The development homeserver running in a child process. */
export interface DevServerProcess {
  url: string;
  caPem: string;
  /** Pid of the child, for the soak log. */
  pid: number;
  /** Closes the homeserver and waits for its process to exit; kills it after 10 s. */
  stop(): Promise<void>;
}

/** Starts the development homeserver in a process of its own and waits until it listens. */
export async function startDevServerProcess(): Promise<DevServerProcess> {
  const entry = compiledEntry();
  const child = fork(entry, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);

  const { url, caPem } = await new Promise<{ url: string; caPem: string }>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the development homeserver did not start within 30 s')),
      30_000,
    );
    child.once('message', (message: { type?: string; url?: string; caPem?: string }) => {
      clearTimeout(timer);
      if (
        message.type === 'listening' &&
        typeof message.url === 'string' &&
        typeof message.caPem === 'string'
      ) {
        resolve({ url: message.url, caPem: message.caPem });
      } else reject(new Error(`the development homeserver said ${JSON.stringify(message)}`));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the development homeserver exited (${signal ?? code}) before listening`));
    });
  }).catch((error: unknown) => {
    kill(child);
    process.off('exit', killOnExit);
    throw error;
  });

  let stopping: Promise<void> | undefined;
  return {
    url,
    caPem,
    pid: child.pid ?? -1,
    stop: () => {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          if (child.connected) child.send({ type: 'stop' });
          const timer = setTimeout(() => kill(child), 10_000);
          await exited;
          clearTimeout(timer);
        }
        process.off('exit', killOnExit);
      })();
      return stopping;
    },
  };
}

function kill(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** dist/soak/devserver-process.js, found from the package root above this module. */
function compiledEntry(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the package root of the soak runner');
    dir = parent;
  }
  return join(dir, 'dist', 'soak', 'devserver-process.js');
}
