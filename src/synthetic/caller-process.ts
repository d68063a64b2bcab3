/**
 * The entry of a synthetic caller process, started by CallerFleet (`child_process.fork` of
 * the compiled file) and driven over its IPC channel (see caller-protocol.ts). It registers
 * its callers on the homeserver, opens an encrypted DM between each and the bot, then places
 * the calls it is told to and reports each one. node-datachannel is used on this process's
 * main thread only. The process exits when told to stop, and on its own when the parent goes
 * away (the IPC channel closes), so that a dead parent never leaves callers behind.
 */
import { randomBytes } from 'node:crypto';

import { CallerAccount } from './caller-account.js';
import {
  parseToCallerMessage,
  type CallerInfo,
  type FromCallerMessage,
  type PlaceMessage,
  type SetupMessage,
} from './caller-protocol.js';
import { failedCallReport, type CallReport } from './call-report.js';
import { MediaTicker } from './media-ticker.js';
import { SyntheticCall } from './synthetic-call.js';

/** How long a stop waits for the calls' hangups before closing anyway, ms. */
const STOP_GRACE_MS = 10_000;
/** Accounts set up at once: each costs key uploads and a room on the homeserver. */
const SETUP_WIDTH = 8;

const accounts = new Map<string, { account: CallerAccount; roomId: string }>();
const calls = new Map<string, { call: SyntheticCall; done: Promise<CallReport> }>();
const ticker = new MediaTicker();
let stopping: Promise<void> | undefined;

function send(message: FromCallerMessage, sent?: () => void): void {
  if (process.connected) process.send?.(message, undefined, {}, () => sent?.());
  else sent?.();
}

async function setup(message: SetupMessage): Promise<void> {
  const ready: CallerInfo[] = [];
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < message.callers && stopping === undefined) {
      next += 1;
      const username = `${message.namePrefix}${randomBytes(5).toString('hex')}`;
      const account = await CallerAccount.register({
        homeserverUrl: message.homeserverUrl,
        caPem: message.caPem,
        username,
      });
      try {
        const roomId = await account.openEncryptedDm(message.botUserId);
        accounts.set(account.userId, { account, roomId });
        ready.push({ userId: account.userId, roomId });
      } catch (error) {
        await account.close();
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(SETUP_WIDTH, message.callers) }, one));
  send({ type: 'ready', callers: ready });
}

function place(message: PlaceMessage): void {
  const entry = accounts.get(message.userId);
  if (entry === undefined || stopping !== undefined || calls.has(message.callId)) {
    send({
      type: 'ended',
      report: failedCallReport(
        message.callId,
        message.userId,
        entry?.roomId ?? '',
        unplacedWhy(message, entry !== undefined),
      ),
    });
    return;
  }
  const call = new SyntheticCall(entry.account, entry.roomId, ticker, {
    callId: message.callId,
    holdMs: message.holdMs,
    answerTimeoutMs: message.answerTimeoutMs,
    mediaTimeoutMs: message.mediaTimeoutMs,
    onProgress: (stage) => send({ type: 'progress', callId: message.callId, stage }),
  });
  const done = call.run();
  calls.set(message.callId, { call, done });
  void done.then((report) => {
    calls.delete(message.callId);
    send({ type: 'ended', report });
  });
}

function unplacedWhy(message: PlaceMessage, known: boolean): string {
  if (stopping !== undefined) return 'the caller process is stopping';
  if (!known) return `no caller ${message.userId} in this process`;
  return `call id ${message.callId} is already in use`;
}

/** Hangs every call up, waits (a while) for their reports to go out, closes every account. */
function stop(): Promise<void> {
  stopping ??= (async () => {
    const live = [...calls.values()];
    for (const { call } of live) call.stop();
    const grace = new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS).unref());
    await Promise.race([Promise.allSettled(live.map(({ done }) => done)), grace]);
    await Promise.allSettled([...accounts.values()].map(({ account }) => account.close()));
    accounts.clear();
  })();
  return stopping;
}

function fatal(error: unknown): void {
  send({ type: 'fatal', error: error instanceof Error ? error.message : String(error) });
  void stop().finally(() => process.exit(1));
}

process.on('message', (raw: unknown) => {
  let message;
  try {
    message = parseToCallerMessage(raw);
  } catch (error) {
    fatal(error);
    return;
  }
  switch (message.type) {
    case 'setup':
      setup(message).catch(fatal);
      return;
    case 'place':
      place(message);
      return;
    case 'hangup':
      calls.get(message.callId)?.call.stop();
      return;
    case 'stop':
      void stop().then(() => send({ type: 'stopped' }, () => process.exit(0)));
      return;
  }
});

// The parent is gone (exited, killed): nobody is left to report to. A signal (Ctrl-C reaches
// the whole process group) ends the process the same way, its temporary stores removed.
const leave = (): void => {
  void stop().finally(() => process.exit(0));
};
process.on('disconnect', leave);
process.on('SIGINT', leave);
process.on('SIGTERM', leave);

if (process.send === undefined) {
  process.stderr.write('caller-process: must be started by CallerFleet (with an IPC channel)\n');
  process.exit(2);
}
