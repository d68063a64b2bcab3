/** How the page shows the call's state. */
import type { DemoState } from './demo-state.js';

/** `12.3 s`, or a dash when unknown. */
function seconds(ms: number | undefined): string {
  return ms === undefined ? '–' : `${(ms / 1000).toFixed(1)} s`;
}

function setText(id: string, text: string): void {
  const element = document.getElementById(id);
  if (element !== null) element.textContent = text;
}

/** Writes the state into the page. */
export function render(state: DemoState): void {
  setText('error', state.error ?? '');
  setText('state', state.callId === undefined ? 'no call yet' : (state.callState ?? 'starting'));

  const bridge = state.bridge;
  if (bridge?.state === 'live') {
    const live = bridge.call;
    setText('duration', `${seconds(live.duration_ms)} of ${seconds(live.duration_limit_ms)}`);
    setText('tokens', `${live.tokens_used} of ${live.token_limit}`);
    setText('ttl', seconds(live.ttl_remaining_ms));
    setText('max-ttl', seconds(live.max_ttl_remaining_ms));
  } else if (bridge !== undefined) {
    const { call } = bridge;
    const used = call.token_usage.input_tokens + call.token_usage.output_tokens;
    setText('duration', seconds(call.duration));
    setText('tokens', `${used} used`);
    setText('ttl', '–');
    setText('max-ttl', '–');
  }

  const media = state.media;
  setText(
    'media',
    media === undefined
      ? '–'
      : `${media.packetsSent} packets sent, ${media.packetsReceived} received, ` +
          `echo level ${media.audioLevel.toFixed(3)}`,
  );

  const reasons: string[] = [];
  if (bridge !== undefined && bridge.state !== 'live') {
    reasons.push(`${bridge.call.end_reason} (${bridge.state}, audit record)`);
  } else if (state.bridgeReason !== undefined) {
    reasons.push(`${state.bridgeReason} (${state.bridgeEvent ?? 'bridge'})`);
  }
  if (state.hangupReason !== undefined) {
    reasons.push(`call: ${state.hangupReason} by ${state.hangupParty ?? '?'}`);
  }
  setText('reason', reasons.length === 0 ? '–' : reasons.join('; '));
}
