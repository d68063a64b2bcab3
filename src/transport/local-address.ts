import { networkInterfaces } from 'node:os';

/**
 * Why WebRTC cannot bind to `address` on this machine, or undefined when it can: the address
 * must be a wildcard (`0.0.0.0`, `::`) or one of the machine's own interface addresses.
 * Without this check a wrong `media.bind_address` is found only when every call fails.
 */
export function bindAddressProblem(address: string): string | undefined {
  if (address === '0.0.0.0' || address === '::') return undefined;
  const own = Object.values(networkInterfaces())
    .flat()
    .flatMap((info) => (info === undefined ? [] : [info.address]));
  if (own.includes(address)) return undefined;
  return (
    `media.bind_address ${JSON.stringify(address)} is not an address of this machine ` +
    `(it has ${own.join(', ') || 'none'}); calls could not be answered`
  );
}
