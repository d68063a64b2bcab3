import { generate } from 'selfsigned';

/** A freshly made certificate and its private key, both PEM. */
export interface DevCertificate {
  /** The certificate; being self-signed, it is also the CA a client must trust. */
  readonly certPem: string;
  /** The private key. Never leaves the process. */
  readonly keyPem: string;
}

/** How long a certificate made at start stays valid. */
const VALIDITY_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Makes a self-signed P-256 certificate for `localhost`, `127.0.0.1` and `::1`. A new key
 * each start means nothing to store and nothing that outlives the process.
 */
export async function makeDevCertificate(now: number): Promise<DevCertificate> {
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    // Clients on a clock slightly behind must still accept it.
    notBeforeDate: new Date(now - 60 * 60 * 1000),
    notAfterDate: new Date(now + VALIDITY_MS),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
