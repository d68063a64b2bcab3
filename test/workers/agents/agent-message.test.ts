import fc from 'fast-check';
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';

import { parseAgentMessage, type AgentMessage } from '../../../workers/agents/agent-message.js';

/** The violation a message was found to be; throws if it was found acceptable. */
function violation(parsed: AgentMessage): { code: string; message: string } {
  if (parsed.kind !== 'violation') throw new Error(`accepted as ${parsed.kind}`);
  return parsed;
}

function control(value: unknown): Buffer {
  return Buffer.concat([Buffer.from([0x02]), pack(value)]);
}

describe('parseAgentMessage', () => {
  it('takes an audio message of exactly one frame', () => {
    const message = Buffer.alloc(1921);
    message[0] = 0x01;

    expect(parseAgentMessage(message)).toEqual({ kind: 'audio', message });
  });

  it('reads a usage report, ignoring fields it does not know', () => {
    const parsed = parseAgentMessage(
      control({ type: 'usage', input_tokens: 12, output_tokens: 3, model: 'm-1', extra: [1] }),
    );

    expect(parsed).toEqual({
      kind: 'usage',
      usage: { inputTokens: 12, outputTokens: 3, model: 'm-1' },
    });
  });

  it('names the model unknown when a usage report leaves it out', () => {
    const parsed = parseAgentMessage(control({ type: 'usage', input_tokens: 0, output_tokens: 0 }));

    expect(parsed).toEqual({
      kind: 'usage',
      usage: { inputTokens: 0, outputTokens: 0, model: 'unknown' },
    });
  });

  it('takes the largest safe integer as a token count', () => {
    const parsed = parseAgentMessage(
      control({ type: 'usage', input_tokens: Number.MAX_SAFE_INTEGER, output_tokens: 0 }),
    );

    expect(parsed).toMatchObject({ kind: 'usage' });
  });

  it('reads a hangup, with agent_hangup when no reason is given', () => {
    expect(parseAgentMessage(control({ type: 'hangup', reason: 'done' }))).toEqual({
      kind: 'hangup',
      reason: 'done',
    });
    expect(parseAgentMessage(control({ type: 'hangup' }))).toEqual({
      kind: 'hangup',
      reason: 'agent_hangup',
    });
  });

  it.each([
    ['input_tokens 1.5', { input_tokens: 1.5, output_tokens: 0 }, 'input_tokens is 1.5'],
    ['output_tokens -2', { input_tokens: 0, output_tokens: -2 }, 'output_tokens is -2'],
    ['input_tokens "3"', { input_tokens: '3', output_tokens: 0 }, 'input_tokens is "3"'],
    ['a missing output_tokens', { input_tokens: 1 }, 'output_tokens is undefined'],
    ['input_tokens 2^53', { input_tokens: 2 ** 53, output_tokens: 0 }, 'input_tokens is 9007'],
    ['a numeric model', { input_tokens: 1, output_tokens: 1, model: 5 }, 'model is 5'],
    [
      'a model of 201 characters',
      { input_tokens: 1, output_tokens: 1, model: 'x'.repeat(201) },
      'model is a string of 201 characters',
    ],
  ])('rejects usage with %s as invalid_usage', (_name, fields, named) => {
    const parsed = violation(parseAgentMessage(control({ type: 'usage', ...fields })));

    expect(parsed.code).toBe('invalid_usage');
    expect(parsed.message).toContain(named);
  });

  it('rejects a uint64 token count that only fits a bigint', () => {
    // msgpack uint64 0xcf with every bit set: 2^64 - 1.
    const huge = Buffer.from([0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    const body = Buffer.concat([
      pack({ type: 'usage', output_tokens: 0 }),
      Buffer.from([0xac]),
      Buffer.from('input_tokens'),
      huge,
    ]);
    // Rewrite the two-entry map16 header as a three-entry one to take the appended pair.
    expect(body[0]).toBe(0xde);
    body.writeUInt16BE(3, 1);

    const parsed = violation(parseAgentMessage(Buffer.concat([Buffer.from([0x02]), body])));

    expect(parsed.code).toBe('invalid_usage');
    expect(parsed.message).toContain('input_tokens is 18446744073709551615n');
  });

  it.each([
    ['an empty message', Buffer.alloc(0), 'message is empty'],
    ['an unknown kind byte', Buffer.from([0xff, 0]), 'kind byte is 0xff'],
    ['a short audio message', Buffer.from([0x01, 0, 0]), 'length is 3 bytes'],
    ['a long audio message', Buffer.alloc(1922, 1), 'length is 1922 bytes'],
    ['a control kind byte alone', Buffer.from([0x02]), 'not one msgpack value'],
    ['two msgpack values', Buffer.concat([control({ type: 'hangup' }), pack(1)]), 'not one'],
    ['the reserved byte 0xc1', Buffer.from([0x02, 0xc1]), 'reserved msgpack byte 0xc1'],
    ['a msgpack string', control('usage'), 'control message is "usage"'],
    ['a msgpack nil', control(null), 'control message is null'],
    ['a map whose type is a number', control({ type: 7 }), 'field type is 7'],
    ['an empty hangup reason', control({ type: 'hangup', reason: '' }), 'reason is ""'],
    [
      'a hangup reason of 101 characters',
      control({ type: 'hangup', reason: 'r'.repeat(101) }),
      'reason is a string of 101 characters',
    ],
  ])('rejects %s as malformed_message', (_name, message, named) => {
    const parsed = violation(parseAgentMessage(message));

    expect(parsed.code).toBe('malformed_message');
    expect(parsed.message).toContain(named);
  });

  it.each(['start', 'ended', 'audio', ''])('rejects a control of type %j as unexpected', (type) => {
    expect(parseAgentMessage(control({ type }))).toMatchObject({
      kind: 'violation',
      code: 'unexpected_message',
    });
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, asControl) => {
        const message = asControl ? Buffer.concat([Buffer.from([0x02]), bytes]) : bytes;
        expect(() => parseAgentMessage(message)).not.toThrow();
      }),
      { numRuns: 5_000 },
    );
  });
});
