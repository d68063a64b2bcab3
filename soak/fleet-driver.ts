import { CallerFleet, type CallReport } from '../src/synthetic/index.js';
import type { CallDriver, CallOutcome } from './call-driver.js';
import type { SoakTarget } from './soak-runner.js';

/**
 * The soak runner's calls from a fleet of synthetic caller processes: Matrix users with
 * encrypted DMs with the bot, each call a real WebRTC offer with Opus audio. One caller
 * account per concurrent call, so a caller never holds two calls at once.
 */
export async function fleetDriver(target: SoakTarget): Promise<CallDriver> {
  const fleet = await CallerFleet.start({
    homeserverUrl: target.homeserverUrl,
    caPem: target.caPem,
    botUserId: target.botUserId,
    processes: target.callerProcesses,
    callers: Math.max(target.callerProcesses, target.concurrentCalls),
    namePrefix: 'soak',
  });
  const live = new Set<string>();
  return {
    async place(holdMs: number): Promise<CallOutcome> {
      const placed = fleet.placeCall({ holdMs });
      live.add(placed.callId);
      try {
        return outcomeOf(await placed.report);
      } finally {
        live.delete(placed.callId);
      }
    },
    hangupAll(): void {
      for (const callId of live) fleet.hangup(callId);
    },
    stop: () => fleet.stop(),
  };
}

/**
 * A call is good when the caller says so, or when the runner hung it up early (draining for a
 * rest): whatever state such a call was in, it was cut short, not failed.
 */
function outcomeOf(report: CallReport): CallOutcome {
  const stopped = report.endReason === 'stopped';
  const reason = stopped
    ? 'stopped'
    : [report.endReason, report.remoteReason, report.failure]
        .filter((part) => part !== undefined && part !== '')
        .join(': ');
  return {
    callId: report.callId,
    ok: report.ok || stopped,
    reason,
    durationMs: report.durationMs,
    packetsSent: report.packets.sent,
    packetsReceived: report.packets.received,
  };
}
