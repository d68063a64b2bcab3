import { isIP } from 'node:net';

/**
 * True for an IP address on the loopback interface: 127.0.0.0/8, ::1, and 127.x as an
 * IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, `::ffff:7f00:1`), however IPv6 writes them.
 * Host names are not resolved (`localhost` is not an address) and scoped addresses (`::1%lo`)
 * are refused.
 */
export function isLoopbackAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return address.startsWith('127.');
  if (version !== 6 || address.includes('%')) return false;
  const groups = ipv6Groups(address);
  const zerosBefore = (count: number): boolean => groups.slice(0, count).every((g) => g === 0);
  if (zerosBefore(7) && groups[7] === 1) return true;
  return zerosBefore(5) && groups[5] === 0xffff && (groups[6] as number) >> 8 === 127;
}

/** The eight 16-bit groups of an address that `isIP` has already found to be IPv6. */
function ipv6Groups(address: string): number[] {
  let text = address.toLowerCase();
  // A dotted IPv4 tail stands for the last two groups.
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    const tail = `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
    text = text.slice(0, dotted.index) + tail;
  }
  const [head = '', rest] = text.split('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => parseInt(group, 16));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
