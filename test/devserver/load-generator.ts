import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

// The client side of the capacity runs, as plain JavaScript run by a separate `node`, so that
// the load is generated on its own event loop (and, on a machine with two cores, its own core)
// and what the test process spends is the server's work. It speaks HTTPS through node:https
// with a keep-alive agent that trusts the server's certificate, and reports JSON lines.
const SOURCE = String.raw`
import { Agent, request } from 'node:https';
import { performance } from 'node:perf_hooks';

let text = '';
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const agent = new Agent({ ca: input.ca, keepAlive: true, noDelay: true, maxSockets: Infinity });
const base = new URL(input.url);
const enc = encodeURIComponent;
const report = (line) => process.stdout.write(JSON.stringify(line) + '\n');

function call(method, path, token, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers = {};
    if (token !== undefined) headers.authorization = 'Bearer ' + token;
    if (data !== undefined) headers['content-type'] = 'application/json';
    const req = request(
      { host: base.hostname, port: base.port, path: '/_matrix/client/v3/' + path, method, agent, headers },
      (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

async function waves(count, width, task) {
  let next = 0;
  const worker = async () => { while (next < count) await task(next++); };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

if (input.mode === 'sends') {
  let stored = 0;
  const started = performance.now();
  await waves(input.count, input.width, async (index) => {
    const path = 'rooms/' + enc(input.roomId) + '/send/m.room.message/load' + index;
    const answer = await call('PUT', path, input.token, { msgtype: 'm.text', body: 'm' + index });
    if (answer.status === 200) stored += 1;
  });
  report({ stored, seconds: (performance.now() - started) / 1000 });
} else {
  const users = [];
  await waves(input.count, 64, async (index) => {
    const login = await call('POST', 'register', undefined, {
      username: 'load' + index,
      auth: { type: 'm.login.dummy' },
    });
    const token = login.body.access_token;
    const first = await call('GET', 'sync', token);
    users.push({ userId: login.body.user_id, token, since: first.body.next_batch });
  });
  const polls = users.map((user) => call('GET', 'sync?timeout=120000&since=' + user.since, user.token));
  report({ waiting: users.map((user) => user.userId) });
  const answers = await Promise.all(polls);
  report({ woken: answers.filter((answer) => answer.body.to_device?.events?.length === 1).length });
}
agent.destroy();
`;

/** A running load generator: its report lines, in order, and its exit. */
export interface LoadGenerator {
  /** The next report line, parsed. */
  next<T>(): Promise<T>;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
}

/** Starts the load generator with its input (server URL, CA, and what to do). */
export function startLoadGenerator(input: Record<string, unknown>): LoadGenerator {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SOURCE], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  child.stdin.end(JSON.stringify(input));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    next: async <T>() => {
      const line = await lines.next();
      if (line.done === true) throw new Error('the load generator ended early');
      return JSON.parse(line.value) as T;
    },
    exited,
  };
}
