/**
 * Wraps a function that native code (or a timer) will call, so that nothing it throws or
 * rejects with escapes: a throw inside a node-datachannel callback aborts the process
 * without an uncaughtException. What is caught goes to `onThrow`; if that throws too, it
 * is dropped, because there is nowhere safe left to put it.
 */
export function guardCallback<A extends unknown[]>(
  fn: (...args: A) => unknown,
  onThrow: (error: unknown) => void,
): (...args: A) => void {
  const report = (error: unknown): void => {
    try {
      onThrow(error);
    } catch {
      // Last resort: see above.
    }
  };
  return (...args: A): void => {
    try {
      const result = fn(...args);
      if (isThenable(result)) result.then(undefined, report);
    } catch (error) {
      report(error);
    }
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
