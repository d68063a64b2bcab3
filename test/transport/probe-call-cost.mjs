// Measures, on loopback, what CallPeers cost the bridge process: JS time on the main thread
// per received (and per echoed) RTP packet, and memory per open CallPeer. Prints figures and
// asserts nothing. Not a test. Run as root, in a loopback-only namespace:
//   unshare -n sh -c 'ip link set lo up; exec node test/transport/probe-call-cost.mjs [peers] [seconds]'
import { fork } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import ts from 'typescript';

const PEERS = Number(process.argv[2] ?? 100);
const SECONDS = Number(process.argv[3] ?? 10);
const INTERVAL_MS = 20;
const PAYLOAD_BYTES = 80;

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');

for (const [name, addresses] of Object.entries(networkInterfaces())) {
  if (addresses?.some((address) => !address.internal)) {
    console.error(
      `interface ${name} is not loopback; run inside: unshare -n sh -c 'ip link set lo up; exec node ${'test/transport/probe-call-cost.mjs'}'`,
    );
    process.exit(2);
  }
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
const settle = async () => {
  for (let i = 0; i < 5; i += 1) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

/** Transpiles src/transport into a scratch folder so plain node can load it. */
function buildTransport() {
  const out = mkdtempSync(join(tmpdir(), 'voicebridge-probe-'));
  const target = join(out, 'src', 'transport');
  mkdirSync(target, { recursive: true });
  for (const file of readdirSync(join(root, 'src', 'transport'))) {
    if (!file.endsWith('.ts')) continue;
    const source = readFileSync(join(root, 'src', 'transport', file), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    writeFileSync(join(target, file.replace(/\.ts$/, '.js')), outputText);
  }
  writeFileSync(join(out, 'package.json'), '{"type":"module"}');
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'), 'dir');
  return out;
}

const build = buildTransport();
const { CallPeer } = await import(
  pathToFileURL(join(build, 'src', 'transport', 'call-peer.js')).href
);
const { liveNativePeerCount } = await import(
  pathToFileURL(join(build, 'src', 'transport', 'native-peer-count.js')).href
);

const child = fork(join(here, 'probe-caller.mjs'), [], { execArgv: [] });
const waiters = new Map();
const expect = (type, count) =>
  new Promise((resolve) => waiters.set(type, { left: count, resolve }));
const peers = new Map();
let echo = false;
let received = 0;

child.on('message', (message) => {
  const peer = peers.get(message.id);
  if (message.type === 'offer') {
    peer.answer(message.sdp).then(({ sdp }) => child.send({ type: 'answer', id: message.id, sdp }));
  } else if (message.type === 'candidates') {
    for (const candidate of message.candidates) peer.addRemoteCandidate(candidate);
  }
  const waiter = waiters.get(message.type);
  if (waiter !== undefined && (waiter.left -= 1) === 0) waiter.resolve(message);
});

await settle();
const before = process.memoryUsage();

for (let id = 0; id < PEERS; id += 1) {
  const peer = new CallPeer({
    callId: `!probe-${id}`,
    onLocalCandidates: (batch) => child.send({ type: 'candidates', id, batch }),
    onRtp: (packet) => {
      received += 1;
      if (echo) {
        packet.writeUInt32BE(peer.ssrc, 8);
        peer.sendRtp(packet);
      }
    },
    onClosed: (reason) => {
      if (reason !== 'probe_done') console.error(`peer ${id} closed: ${reason}`);
    },
  });
  peers.set(id, peer);
}
const opened = expect('open', PEERS);
child.send({ type: 'create', count: PEERS });
await opened;
while ([...peers.values()].some((peer) => !peer.mediaOpen)) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
await settle();
const after = process.memoryUsage();

/** Main-thread busy time while the caller sends for SECONDS, and the packets that arrived. */
async function phase(withEcho) {
  echo = withEcho;
  received = 0;
  const start = performance.eventLoopUtilization();
  const t0 = performance.now();
  child.send({ type: 'start', intervalMs: INTERVAL_MS, payloadBytes: PAYLOAD_BYTES });
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1_000));
  const stopped = expect('stopped', 1);
  child.send({ type: 'stop' });
  const { sent, received: echoed } = await stopped;
  await new Promise((resolve) => setTimeout(resolve, 200));
  const utilization = performance.eventLoopUtilization(start);
  return { sent, received, echoed, activeMs: utilization.active, wallMs: performance.now() - t0 };
}

const idleStart = performance.eventLoopUtilization();
await new Promise((resolve) => setTimeout(resolve, 2_000));
const idle = performance.eventLoopUtilization(idleStart);
const idleActivePerMs = idle.active / idle.idle;

const receiveOnly = await phase(false);
const withEcho = await phase(true);

const perPacket = (run, packets) =>
  ((run.activeMs - idleActivePerMs * run.wallMs) * 1_000) / Math.max(packets, 1);
const mb = (bytes) => (bytes / 1_048_576).toFixed(2);
const perPeerKb = (key) => ((after[key] - before[key]) / PEERS / 1_024).toFixed(1);

console.log(`CallPeers: ${PEERS}, ${1_000 / INTERVAL_MS} packets/s each, ${SECONDS} s per phase`);
console.log(
  `memory per open CallPeer: rss ${perPeerKb('rss')} KiB, heapUsed ${perPeerKb('heapUsed')} KiB, external ${perPeerKb('external')} KiB` +
    ` (rss ${mb(before.rss)} -> ${mb(after.rss)} MiB)`,
);
console.log(
  `receive only: ${receiveOnly.received}/${receiveOnly.sent} packets arrived; main-thread JS ${perPacket(receiveOnly, receiveOnly.received).toFixed(2)} us per received packet; ` +
    `event loop ${((receiveOnly.activeMs / receiveOnly.wallMs) * 100).toFixed(1)} % busy`,
);
console.log(
  `receive + echo: ${withEcho.received} in, ${withEcho.echoed} echoed back; main-thread JS ${perPacket(withEcho, withEcho.received).toFixed(2)} us per packet in and out; ` +
    `event loop ${((withEcho.activeMs / withEcho.wallMs) * 100).toFixed(1)} % busy`,
);
const perCall = (perPacket(withEcho, withEcho.received) * (1_000 / INTERVAL_MS)) / 1e6;
console.log(
  `=> about ${(perCall * 100).toFixed(3)} % of one core per call at 50 packets/s each way`,
);

for (const peer of peers.values()) peer.close('probe_done');
await Promise.all([...peers.values()].map((peer) => peer.released));
console.log(`native connections still held after close: ${liveNativePeerCount()}`);
child.send({ type: 'exit' });
await new Promise((resolve) => child.on('exit', resolve));
rmSync(build, { recursive: true, force: true });
process.exit(0);
