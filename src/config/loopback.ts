import { isIP } from 'node:net';

/**
 * True for an IP address on the loopback interface: 127.0.0.0/8, ::1, and 127.x written as an
 * IPv4-mapped IPv6 address. Host names are not resolved: `localhost` is not an address.
 */
export function isLoopbackAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) return address.startsWith('127.');
  if (version !== 6) return false;
  const lower = address.toLowerCase();
  if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  return mapped !== null && (mapped[1] as string).startsWith('127.');
}
