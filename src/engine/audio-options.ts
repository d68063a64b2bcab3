import { AudioCoreError } from './audio-error.js';

/** Returns `value` if it is an integer in [min, max]; throws `invalid_option` naming `field`. */
export function integerOption(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new AudioCoreError(
      'invalid_option',
      `${field} must be an integer from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** Returns `value` if it is a power of two in [min, max]; throws `invalid_option` naming `field`. */
export function powerOfTwoOption(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max || (value & (value - 1)) !== 0) {
    throw new AudioCoreError(
      'invalid_option',
      `${field} must be a power of two from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}

/** Returns `value` if it is a finite number in [min, max]; throws `invalid_option` naming `field`. */
export function numberOption(field: string, value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new AudioCoreError(
      'invalid_option',
      `${field} must be a number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return value;
}
