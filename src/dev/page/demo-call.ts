/**
 * The demo page's script: a matrix-js-sdk client with its Rust crypto, logged in as a demo
 * caller, that places a voice call (MatrixCall) to the bridge's bot in their encrypted room,
 * plays the echo back, and shows the call's live state from the bridge's admin API.
 */
import {
  CallEvent,
  ClientEvent,
  createClient,
  createNewMatrixCall,
  RoomEvent,
  SyncState,
  type MatrixCall,
  type MatrixClient,
  type MatrixEvent,
} from 'matrix-js-sdk';
import { CallErrorCode, CallState } from 'matrix-js-sdk/lib/webrtc/call.js';

import { callPart, initialState, type BridgeCall, type BrowserMedia } from './demo-state.js';
import { render } from './call-view.js';

/** What `/dev/session` hands the page: a fresh device of a demo caller, and its room. */
interface Session {
  user_id: string;
  device_id: string;
  access_token: string;
  room_id: string;
  bot_user_id: string;
}

/** How often the page asks the bridge and the peer connection for figures. */
const POLL_MS = 500;

const state = initialState();
let client: MatrixClient | undefined;
let call: MatrixCall | undefined;
let session: Session | undefined;

/** The page's state and measurements, for a person in the console and for tests. */
window.voicebridgeDemo = { state };

declare global {
  interface Window {
    voicebridgeDemo: { state: typeof state };
  }
}

const callButton = document.getElementById('call') as HTMLButtonElement;
const hangupButton = document.getElementById('hangup') as HTMLButtonElement;
const remoteAudio = document.getElementById('remote') as HTMLAudioElement;

function fail(what: string, error: unknown): void {
  state.error = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  render(state);
}

/** Logs in (a new device each load), starts crypto and sync, and waits for the first sync. */
async function start(): Promise<void> {
  const caller = new URLSearchParams(location.search).get('caller') ?? '';
  const answer = await fetch(`/dev/session?caller=${encodeURIComponent(caller)}`);
  if (!answer.ok) throw new Error(`/dev/session answered ${answer.status}: ${await answer.text()}`);
  session = (await answer.json()) as Session;

  const matrix = createClient({
    baseUrl: location.origin,
    userId: session.user_id,
    deviceId: session.device_id,
    accessToken: session.access_token,
  });
  client = matrix;
  await matrix.initRustCrypto({ useIndexedDB: false });
  const prepared = new Promise<void>((resolve, reject) => {
    matrix.on(ClientEvent.Sync, (sync) => {
      if (sync === SyncState.Prepared) resolve();
      if (sync === SyncState.Error) reject(new Error('the first sync failed'));
    });
  });
  matrix.on(RoomEvent.Timeline, (event) => {
    noteBridgeEvent(event).catch((error: unknown) => fail('could not read a call event', error));
  });
  await matrix.startClient({ initialSyncLimit: 1 });
  await prepared;

  state.userId = session.user_id;
  state.roomId = session.room_id;
  state.ready = true;
  const who = document.getElementById('who');
  if (who !== null) {
    who.textContent = `You are ${session.user_id}; the bridge is ${session.bot_user_id}.`;
  }
  callButton.disabled = false;
  render(state);
}

/** Keeps the reason the bridge gave in its own refusal or hangup of the current call. */
async function noteBridgeEvent(event: MatrixEvent): Promise<void> {
  await client?.decryptEventIfNeeded(event);
  const type = event.getType();
  if (type !== 'm.call.reject' && type !== 'm.call.hangup') return;
  if (event.getSender() !== session?.bot_user_id) return;
  const content = event.getContent<Record<string, unknown>>();
  if (call === undefined || content.call_id !== call.callId) return;
  state.bridgeEvent = type;
  state.bridgeEventEncrypted = event.isEncrypted();
  const reason = content['org.voicebridge.reason'] ?? content.reason;
  state.bridgeReason = typeof reason === 'string' ? reason : undefined;
  render(state);
}

/** Places a voice call to the bot in the shared room. */
async function placeCall(): Promise<void> {
  if (client === undefined || session === undefined) return;
  const next = createNewMatrixCall(client, session.room_id, { invitee: session.bot_user_id });
  if (next === null) throw new Error('this browser cannot make WebRTC calls');
  call = next;
  Object.assign(state, callPart(next.callId, next.state));
  next.on(CallEvent.State, (callState) => {
    state.callState = callState;
    render(state);
  });
  next.on(CallEvent.FeedsChanged, () => {
    playRemote(next).catch((error: unknown) => fail('could not play the echo', error));
  });
  next.on(CallEvent.Error, (error) => fail('call error', error));
  next.on(CallEvent.Hangup, () => {
    state.hangupReason = next.hangupReason;
    state.hangupParty = next.hangupParty;
    callButton.disabled = false;
    hangupButton.disabled = true;
    render(state);
  });
  callButton.disabled = true;
  hangupButton.disabled = false;
  render(state);
  void follow(next);
  await next.placeVoiceCall();
}

/** Plays the echo: Chromium decodes received audio only when it has somewhere to go. */
async function playRemote(current: MatrixCall): Promise<void> {
  const stream = current.remoteUsermediaStream;
  if (stream === undefined || remoteAudio.srcObject === stream) return;
  remoteAudio.srcObject = stream;
  await remoteAudio.play();
}

/** Polls the bridge and the peer connection until the call has ended and been recorded. */
async function follow(current: MatrixCall): Promise<void> {
  let afterEnd = 0;
  while (call === current && afterEnd < 20) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (current.state === CallState.Ended) afterEnd += 1;
    else await sampleMedia(current).catch(() => undefined);
    // 404 until the bridge has seen the invite; 503 when it runs without its admin server.
    const answer = await fetch(`/api/calls/${encodeURIComponent(current.callId)}`).catch(
      () => undefined,
    );
    if (answer?.ok === true) {
      const bridge = (await answer.json()) as BridgeCall;
      state.bridge = bridge;
      render(state);
      if (bridge.state !== 'live' && current.state === CallState.Ended) return;
    }
  }
}

/** Reads the browser's own RTP figures and the level of the decoded echo. */
async function sampleMedia(current: MatrixCall): Promise<void> {
  const peer = current.peerConn;
  if (peer === undefined || peer.connectionState === 'closed') return;
  const media: BrowserMedia = state.media ?? {
    packetsSent: 0,
    packetsReceived: 0,
    audioLevel: 0,
    maxAudioLevel: 0,
    totalAudioEnergy: 0,
    totalSamplesReceived: 0,
  };
  (await peer.getStats()).forEach((report: Record<string, unknown>) => {
    const figure = (name: string): number => (typeof report[name] === 'number' ? report[name] : 0);
    if (report.kind !== 'audio') return;
    if (report.type === 'outbound-rtp') media.packetsSent = figure('packetsSent');
    if (report.type === 'inbound-rtp') {
      media.packetsReceived = figure('packetsReceived');
      media.audioLevel = figure('audioLevel');
      media.maxAudioLevel = Math.max(media.maxAudioLevel, media.audioLevel);
      media.totalAudioEnergy = figure('totalAudioEnergy');
      media.totalSamplesReceived = figure('totalSamplesReceived');
    }
  });
  state.media = media;
}

callButton.addEventListener('click', () => {
  placeCall().catch((error: unknown) => fail('could not place the call', error));
});
hangupButton.addEventListener('click', () => {
  call?.hangup(CallErrorCode.UserHangup, false);
});
start().catch((error: unknown) => fail('could not start', error));
