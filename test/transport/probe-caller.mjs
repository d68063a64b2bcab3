// The calling side of probe-call-cost.mjs, in its own process so that the bridge process's
// main thread does only the bridge's work. Driven over the IPC channel; not a test.
import nodeDataChannel from 'node-datachannel';

const PAYLOAD_TYPE = 111;
const callers = new Map();
let sender;

function send(message) {
  process.send?.(message);
}

function createCaller(id) {
  const pc = new nodeDataChannel.PeerConnection(`probe-caller-${id}`, {
    iceServers: [],
    bindAddress: '127.0.0.1',
  });
  const ssrc = 0x10000 + id;
  const audio = new nodeDataChannel.Audio('0', 'SendRecv');
  audio.addOpusCodec(PAYLOAD_TYPE);
  audio.addSSRC(ssrc, `probe-${id}`, 'probe', `probe-${id}`);
  const track = pc.addTrack(audio);
  const caller = { pc, track, ssrc, open: false, sequence: 0, received: 0, candidates: [] };
  callers.set(id, caller);

  track.onOpen(() => {
    caller.open = true;
    send({ type: 'open', id });
  });
  track.onMessage(() => {
    caller.received += 1;
  });
  pc.onLocalCandidate((candidate, mid) => caller.candidates.push({ candidate, sdpMid: mid }));
  pc.onLocalDescription((sdp, type) => {
    if (type === 'offer') send({ type: 'offer', id, sdp });
  });
  pc.setLocalDescription();
}

function tick(payload) {
  for (const caller of callers.values()) {
    if (!caller.open || !caller.track.isOpen()) continue;
    const packet = Buffer.alloc(12 + payload);
    packet[0] = 0x80;
    packet[1] = PAYLOAD_TYPE;
    packet.writeUInt16BE(caller.sequence & 0xffff, 2);
    packet.writeUInt32BE((caller.sequence * 960) >>> 0, 4);
    packet.writeUInt32BE(caller.ssrc, 8);
    caller.sequence += 1;
    caller.track.sendMessageBinary(packet);
  }
}

process.on('message', (message) => {
  switch (message.type) {
    case 'create':
      for (let id = 0; id < message.count; id += 1) createCaller(id);
      break;
    case 'answer': {
      const caller = callers.get(message.id);
      caller.pc.setRemoteDescription(message.sdp, 'answer');
      // Candidates go to the bridge only once this side holds the answer.
      send({ type: 'candidates', id: message.id, candidates: caller.candidates });
      break;
    }
    case 'candidates': {
      const caller = callers.get(message.id);
      for (const { candidate } of message.batch) {
        if (candidate !== '') caller.pc.addRemoteCandidate(candidate, '0');
      }
      break;
    }
    case 'start':
      sender = setInterval(() => tick(message.payloadBytes), message.intervalMs);
      break;
    case 'stop': {
      clearInterval(sender);
      let received = 0;
      let sent = 0;
      for (const caller of callers.values()) {
        received += caller.received;
        sent += caller.sequence;
      }
      send({ type: 'stopped', sent, received });
      break;
    }
    case 'exit':
      for (const caller of callers.values()) {
        caller.track.close();
        caller.pc.close();
      }
      setTimeout(() => {
        nodeDataChannel.cleanup();
        process.exit(0);
      }, 200);
      break;
  }
});
