import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc figures (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** A process's CPU time so far (user + system), ms; undefined when it is gone or not Linux. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Past the command name in parentheses: field 3 onwards; utime and stime are fields 14, 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1_000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

/** The whole machine's busy and total CPU time so far, ms (all cores); undefined if unknown. */
export function machineCpuMs(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const ticks = line.trim().split(/\s+/).slice(1).map(Number);
    const total = ticks.reduce((sum, t) => sum + t, 0);
    // idle and iowait are the 4th and 5th figures.
    const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
    const scale = 1_000 / TICKS_PER_SECOND;
    return { busy: (total - idle) * scale, total: total * scale };
  } catch {
    return undefined;
  }
}
