/**
 * Group commit for queue sends: requests that arrive while a send is in flight are sent
 * together in the next `sendBatch`, so under load the intake makes one queue call per batch
 * instead of one per beacon. Every request still waits until its own message is in the queue
 * (204) or the send failed (503): nothing is acknowledged before it is stored, nothing is lost.
 *
 * Workers specifics this is built around:
 * - I/O belongs to the request that starts it, so each batch is sent by a request whose own
 *   message is in that batch (the "leader"), kept alive with `waitUntil` if the client leaves.
 * - A request only ever awaits promises it created itself; other requests settle them
 *   (cross-request resolution runs the continuation in the awaiting request's own context).
 */

/** The queue calls group commit needs (`Queue` fits). */
export interface BatchQueue<T> {
  send(message: T): Promise<unknown>;
  sendBatch(messages: Iterable<{ body: T }>): Promise<unknown>;
}

export interface GroupCommitOptions {
  /** Most messages per `sendBatch` (Queues allow 100). */
  maxMessages?: number;
  /** Most estimated bytes per `sendBatch` (Queues allow 256 KB). */
  maxBytes?: number;
  /** A send in flight longer than this (ms) is given up: its requests get an error (503). */
  stallMs?: number;
  /** Clock for the stall check (default Date.now). */
  now?: () => number;
}

export interface GroupCommit<T> {
  /**
   * Resolves once `message` is in the queue; rejects if its batch failed. `bytes` is the
   * message size estimate; `waitUntil` keeps a batch this request leads alive after a disconnect.
   */
  send(message: T, bytes: number, waitUntil?: (p: Promise<unknown>) => void): Promise<void>;
}

interface Entry<T> {
  message: T;
  bytes: number;
  waitUntil: ((p: Promise<unknown>) => void) | undefined;
  resolve: () => void;
  reject: (err: unknown) => void;
  /** Wakes this request so it leads the next batch (set while it waits its turn). */
  wake: (() => void) | null;
  queued: boolean;
}

interface InFlight {
  entries: Entry<unknown>[];
  since: number;
}

/** Builds a group committer over `queue`. Defaults: 100 messages, 200 000 bytes, 10 s stall. */
export function createGroupCommit<T>(queue: BatchQueue<T>, options: GroupCommitOptions = {}): GroupCommit<T> {
  const maxMessages = options.maxMessages ?? 100;
  const maxBytes = options.maxBytes ?? 200_000;
  const stallMs = options.stallMs ?? 10_000;
  const now = options.now ?? Date.now;
  const pending: Entry<T>[] = [];
  let inFlight: InFlight | null = null;

  function lead(leader: Entry<T>): void {
    const batch: Entry<T>[] = [leader];
    let bytes = leader.bytes;
    leader.queued = false;
    removeFrom(pending, leader);
    while (pending.length > 0 && batch.length < maxMessages) {
      const next = pending[0] as Entry<T>;
      if (bytes + next.bytes > maxBytes) break;
      pending.shift();
      next.queued = false;
      batch.push(next);
      bytes += next.bytes;
    }
    const mine: InFlight = { entries: batch as Entry<unknown>[], since: now() };
    inFlight = mine;
    const finish = (ok: boolean, err?: unknown) => {
      // A stalled batch may already have been given up; then it no longer owns the slot.
      if (inFlight === mine) {
        inFlight = null;
        wakeWaiting();
      }
      for (const e of batch) ok ? e.resolve() : e.reject(err);
    };
    let sent: Promise<unknown>;
    try {
      sent =
        batch.length === 1
          ? queue.send(leader.message)
          : queue.sendBatch(batch.map((e) => ({ body: e.message })));
    } catch (err) {
      sent = Promise.reject(err);
    }
    const done = sent.then(
      () => finish(true),
      (err) => finish(false, err),
    );
    leader.waitUntil?.(done);
  }

  // Wakes every waiting request: the first one to run leads the next batch, the others wait
  // again. Waking all (not just the oldest) keeps things moving if one waiter's request died.
  function wakeWaiting(): void {
    for (const e of pending) {
      const wake = e.wake;
      e.wake = null;
      wake?.();
    }
  }

  function giveUpIfStalled(): void {
    if (inFlight === null || now() - inFlight.since < stallMs) return;
    const stalled = inFlight;
    inFlight = null;
    const err = new Error(`queue send stalled for more than ${stallMs} ms`);
    for (const e of stalled.entries) e.reject(err);
  }

  function waitTurn(entry: Entry<T>): void {
    // Created in this request's context, so its continuation runs here even when another
    // request resolves it.
    new Promise<void>((resolve) => {
      entry.wake = resolve;
    }).then(() => {
      if (!entry.queued) return;
      giveUpIfStalled();
      if (inFlight === null) lead(entry);
      else waitTurn(entry);
    });
  }

  return {
    send(message, bytes, waitUntil) {
      return new Promise<void>((resolve, reject) => {
        const entry: Entry<T> = { message, bytes, waitUntil, resolve, reject, wake: null, queued: true };
        pending.push(entry);
        giveUpIfStalled();
        if (inFlight === null) lead(entry);
        else waitTurn(entry);
      });
    },
  };
}

function removeFrom<E>(list: E[], item: E): void {
  const i = list.indexOf(item);
  if (i !== -1) list.splice(i, 1);
}
