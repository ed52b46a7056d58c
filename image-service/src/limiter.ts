import { ImageServiceError } from "./errors.ts";

/**
 * Runs at most `concurrency` tasks at once; up to `queueLimit` more wait in FIFO order and any
 * beyond that are refused at once with 503 (+ Retry-After), so load turns into queueing, not memory.
 */
export class Limiter {
  readonly concurrency: number;
  readonly queueLimit: number;
  #active = 0;
  #waiting: (() => void)[] = [];

  constructor(concurrency: number, queueLimit: number) {
    this.concurrency = concurrency;
    this.queueLimit = queueLimit;
  }

  get active(): number {
    return this.#active;
  }

  get queued(): number {
    return this.#waiting.length;
  }

  /** Runs `task` when a slot is free; throws a 503 ImageServiceError when the queue is full. */
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#active >= this.concurrency) {
      if (this.#waiting.length >= this.queueLimit) {
        throw new ImageServiceError(
          503,
          "Image service busy, retry shortly",
          `queue full (${this.queueLimit})`,
        );
      }
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#active++;
    }
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter so the active count never dips and lets a newcomer jump the queue.
      if (next) next();
      else this.#active--;
    }
  }
}
