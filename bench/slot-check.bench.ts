import { pathToFileURL } from 'node:url';

import { measure } from 'mitata';

import { checkSlot } from '../src/engine/limit-check.js';
import { F64, SlotTable } from '../src/engine/slot-table.js';
import { printTable } from './table.js';

const CALLS = 1_000;

/** The per-tick limit check: ns per call, over a table of 1,000 live calls. */
export async function run(): Promise<Record<string, number>> {
  const slots = SlotTable.create(CALLS);
  const start = Date.now();
  for (let i = 0; i < CALLS; i++) {
    slots.claim({
      startedAt: start,
      tokenLimit: 100_000,
      durationDeadline: start + 1_800_000,
      idleTtl: 600_000,
      maxTtlDeadline: start + 3_600_000,
      maxCallDeadline: start + 3_600_000,
      budgetWarningRatio: 0.8,
      ttlWarningRatio: 0.9,
      budgetHardStop: true,
      ttlHardStop: true,
    });
  }

  let now = start;
  const tick = await measure(() => {
    now += 1;
    for (let i = 0; i < CALLS; i++) {
      slots.add(i, F64.inputTokens, 0);
      checkSlot(slots, i, now);
    }
  });
  const publish = await measure(() => {
    for (let i = 0; i < CALLS; i++) {
      slots.add(i, F64.packetsIn, 1);
      slots.publish(i);
    }
  });
  return {
    slot_check_ns_per_call_per_tick: tick.avg / CALLS,
    slot_check_p99_ns_per_call_per_tick: tick.p99 / CALLS,
    counter_publish_ns_per_call: publish.avg / CALLS,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  printTable('slot table', await run());
}
