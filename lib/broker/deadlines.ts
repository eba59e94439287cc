/**
 * Deadlines that all lie the same time ahead (every request body gets the
 * same time to arrive), kept in one queue under one timer. Arming a timer
 * per request cost ~5 µs of the ~40 µs a `/publish` takes (measured with
 * wrk, bench/RESULTS.broker.md); here a request costs one queue entry.
 *
 * Because every deadline is `ms` after its `add`, the queue is in deadline
 * order: the timer only ever waits for its head. Entries settled early are
 * dropped from the head as soon as they are there, so under steady traffic
 * the queue holds about the requests in flight.
 * @module
 */

type Deadline = {
  at: number;
  fire: (v: typeof TIMED_OUT) => void;
  live: boolean;
};

/** What {@link Deadlines.race} gives when the deadline came first. */
export const TIMED_OUT: unique symbol = Symbol("timed out");

/** One timer for many equal-length deadlines. */
export class Deadlines {
  readonly ms: number;
  #queue: Deadline[] = [];
  #head = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param ms how long after {@link add} each deadline fires */
  constructor(ms: number) {
    this.ms = ms;
  }

  /** Deadlines not yet fired or cancelled. */
  get pending(): number {
    let n = 0;
    for (let i = this.#head; i < this.#queue.length; i++) {
      if (this.#queue[i]!.live) n++;
    }
    return n;
  }

  /**
   * Call `fire` `ms` from now unless the returned cancel comes first.
   * Cancel is idempotent and does nothing once `fire` ran.
   */
  add(fire: () => void): () => void {
    const d = this.#push(fire);
    return () => this.#settle(d);
  }

  /**
   * `reading`'s value, or {@link TIMED_OUT} when it is not done `ms` from
   * now (one promise and one queue entry: the publish path's body read).
   */
  race<T>(reading: Promise<T>): Promise<T | typeof TIMED_OUT> {
    return new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
      const d = this.#push(resolve);
      reading.then((v) => {
        this.#settle(d);
        resolve(v);
      }, (e) => {
        this.#settle(d);
        reject(e);
      });
    });
  }

  #push(fire: (v: typeof TIMED_OUT) => void): Deadline {
    // `Date.now()` is V8's own (no runtime op, unlike `performance.now()`:
    // 52 vs ~110 ns a call here). Its whole milliseconds are rounded up by one, so
    // a deadline never fires before `ms` have passed.
    const d: Deadline = { at: Date.now() + this.ms + 1, fire, live: true };
    this.#queue.push(d);
    if (this.#timer === undefined) this.#arm(this.ms);
    return d;
  }

  #settle(d: Deadline): void {
    if (!d.live) return;
    d.live = false;
    this.#dropSettled();
  }

  /** Cancel everything and stop the timer (the server stops). */
  clear(): void {
    for (let i = this.#head; i < this.#queue.length; i++) {
      this.#queue[i]!.live = false;
    }
    this.#queue = [];
    this.#head = 0;
    this.#disarm();
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(1, ms));
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #dropSettled(): void {
    const q = this.#queue;
    while (this.#head < q.length && !q[this.#head]!.live) this.#head++;
    if (this.#head === q.length) {
      // The timer stays: it finds nothing and stops, unless more came
      // meanwhile (re-arming it per burst of requests cost as much as a
      // timer per request). {@link clear} stops it at once.
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
  }

  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    const q = this.#queue;
    while (this.#head < q.length) {
      const d = q[this.#head]!;
      if (d.live && d.at > now) break;
      this.#head++;
      if (!d.live) continue;
      d.live = false;
      try {
        d.fire(TIMED_OUT);
      } catch { /* the caller's problem; the others still fire */ }
    }
    this.#dropSettled();
    if (this.#head < this.#queue.length && this.#timer === undefined) {
      this.#arm(this.#queue[this.#head]!.at - now);
    }
  }
}
