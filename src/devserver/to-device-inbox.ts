import type { JsonObject } from './json-input.js';

/** A to-device message waiting for its device. */
interface Message {
  readonly position: number;
  readonly event: JsonObject;
}

/**
 * To-device messages waiting for each device. A message stays until the device acknowledges
 * it by syncing with a `since` token at or after the message's position, so a sync that is
 * lost in transit delivers its messages again, and one that arrives delivers them once.
 *
 * Limitation: one sync carries every waiting message (servers usually cap it at 100), and
 * messages for a device that never syncs stay until the device is deleted.
 */
export class ToDeviceInbox {
  /** Waiting messages by device key, oldest first. */
  readonly #messages = new Map<string, Message[]>();

  /** Queues a message for a device. */
  push(deviceKey: string, position: number, event: JsonObject): void {
    let queue = this.#messages.get(deviceKey);
    if (queue === undefined) {
      queue = [];
      this.#messages.set(deviceKey, queue);
    }
    queue.push({ position, event });
  }

  /** Drops the messages a sync from `since` acknowledges (positions at or before it). */
  acknowledge(deviceKey: string, since: number): void {
    const queue = this.#messages.get(deviceKey);
    if (queue === undefined) return;
    const kept = queue.filter((message) => message.position > since);
    if (kept.length === 0) this.#messages.delete(deviceKey);
    else this.#messages.set(deviceKey, kept);
  }

  /** Messages waiting for a device at positions at or before `upTo`, oldest first. */
  pending(deviceKey: string, upTo: number): JsonObject[] {
    const queue = this.#messages.get(deviceKey) ?? [];
    return queue.filter((message) => message.position <= upTo).map((message) => message.event);
  }

  /** Forgets a device's messages. */
  removeDevice(deviceKey: string): void {
    this.#messages.delete(deviceKey);
  }
}
