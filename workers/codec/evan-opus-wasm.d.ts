/**
 * Types for the WebAssembly entry of `@evan/opus`, which ships none for this path. Importing the
 * entry directly means the package's native addon is never loaded, whatever the environment says.
 */
declare module '@evan/opus/wasm/index.mjs' {
  /** A libopus encoder living in the module's WebAssembly heap. */
  export class Encoder {
    constructor(options: {
      channels: 1 | 2;
      sample_rate: 8000 | 12000 | 16000 | 24000 | 48000;
      application: 'voip' | 'audio' | 'restricted_lowdelay';
    });
    /** `opus_encoder_ctl`: a getter when `value` is omitted, a setter (throwing on error) otherwise. */
    ctl(request: number, value?: number): number;
    /** Encodes interleaved 16-bit PCM; the frame size is the input length. Returns a new array. */
    encode(pcm: ArrayBufferView): Uint8Array;
    /** Frees the encoder's memory. */
    drop(): void;
  }

  /** A libopus decoder living in the module's WebAssembly heap. */
  export class Decoder {
    constructor(options: { channels: 1 | 2; sample_rate: 8000 | 12000 | 16000 | 24000 | 48000 });
    /** `opus_decoder_ctl`: a getter when `value` is omitted, a setter (throwing on error) otherwise. */
    ctl(request: number, value?: number): number;
    /** Decodes one packet to 16-bit little-endian PCM bytes, in a new array. Throws on a bad packet. */
    decode(payload: ArrayBufferView): Uint8Array;
    /** Frees the decoder's memory. */
    drop(): void;
  }
}
