import { CryptoError, messageOf } from './crypto-error.js';
import type { CryptoRequestSender, OutgoingCryptoRequest } from './crypto-request.js';

/**
 * The requests on their way to the homeserver, by id. The library offers a request again until
 * it is marked as sent, so the sync loop and a key share can both come across the same one:
 * the second caller joins the first send instead of sending it twice.
 */
export class RequestFlight {
  /** Sends one request over HTTP. */
  #send: CryptoRequestSender;
  /** Hands a response back to the machine. */
  #report: (request: OutgoingCryptoRequest, response: string) => Promise<void>;
  /** Sends under way, by request id. */
  #running = new Map<string, Promise<void>>();

  constructor(
    send: CryptoRequestSender,
    report: (request: OutgoingCryptoRequest, response: string) => Promise<void>,
  ) {
    this.#send = send;
    this.#report = report;
  }

  /** True while a request with this id is being sent. */
  has(id: string): boolean {
    return this.#running.has(id);
  }

  /** Every send under way. */
  running(): Promise<void>[] {
    return [...this.#running.values()];
  }

  /**
   * Sends a request and reports its response, or joins the send already under way. Rejects with
   * CryptoError `request_failed` when sending failed; the library will offer it again.
   */
  send(request: OutgoingCryptoRequest): Promise<void> {
    const running = this.#running.get(request.id);
    if (running !== undefined) return running;

    const sending = (async () => {
      let response: string;
      try {
        response = await this.#send(request);
      } catch (error) {
        throw new CryptoError(
          'request_failed',
          `crypto: sending ${request.kind} request ${request.id} failed: ${messageOf(error)}`,
          { cause: error },
        );
      }
      await this.#report(request, response);
    })();
    this.#running.set(request.id, sending);
    void sending.finally(() => this.#running.delete(request.id)).catch(() => undefined);
    return sending;
  }
}

/** Waits for every promise, then throws the first failure, if any. */
export async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((result) => result.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}
