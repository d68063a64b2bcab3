import { assertMainThread } from './main-thread-guard.js';

// The check has to run before the native module is evaluated, so the library is imported
// dynamically: a static import would load it first and abort a worker outright.
assertMainThread('node-datachannel');

const library = (await import('node-datachannel')).default;

/** node-datachannel's PeerConnection constructor. */
export const PeerConnection = library.PeerConnection;

/** node-datachannel's Audio media description constructor. */
export const Audio = library.Audio;

/** node-datachannel's process-wide logger setup. */
export const initLogger = library.initLogger;
