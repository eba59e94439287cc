/**
 * Log entries held back until someone reads them, kept as their messages'
 * JSON (parsed again only when read): the newest `capacity` in a ring, plus,
 * of those the ring pushed out, the newest per key. A view that is read now
 * and then (the web dashboard's) follows a busy broker this way without
 * keeping a message's objects alive past the young generation, and without
 * allocating per entry once it is full.
 * @module
 */
import type { LogEntry } from "./broker_types.ts";
import { StoredEntry } from "./broker_state.ts";

type Out = { seq: number; ts: number; json: string };

/** See the module docs. */
export class EntryRing {
  readonly #seq: Float64Array;
  readonly #ts: Float64Array;
  readonly #json: string[];
  readonly #key: string[];
  /** Index of the oldest entry in the ring. */
  #head = 0;
  #count = 0;
  /** Pushed out of the ring: the newest per key, in order of that seq. */
  readonly #older = new Map<string, Out>();
  /** The key last set in {@link #older} (already its newest: no move). */
  #lastOut: string | null = null;

  /** @param capacity entries the ring holds (at least 1) */
  constructor(capacity: number) {
    const n = Math.max(1, Math.floor(capacity));
    this.#seq = new Float64Array(n);
    this.#ts = new Float64Array(n);
    this.#json = new Array<string>(n).fill("");
    this.#key = new Array<string>(n).fill("");
  }

  /** Entries held (ring and older ones). */
  get size(): number {
    return this.#count + this.#older.size;
  }

  /** Hold one entry (`json`: its message as JSON; `key`: what it updates). */
  push(seq: number, ts: number, json: string, key: string): void {
    const cap = this.#seq.length;
    let i: number;
    if (this.#count < cap) i = (this.#head + this.#count++) % cap;
    else {
      // The oldest leaves the ring. Delete, then set: the map stays in
      // order of each key's newest seq (the key set last already is
      // last). Its record is reused.
      i = this.#head;
      const k = this.#key[i]!;
      let o = this.#older.get(k);
      if (o === undefined) o = { seq: 0, ts: 0, json: "" };
      else if (k !== this.#lastOut) this.#older.delete(k);
      if (k !== this.#lastOut) {
        this.#older.set(k, o);
        this.#lastOut = k;
      }
      o.seq = this.#seq[i]!;
      o.ts = this.#ts[i]!;
      o.json = this.#json[i]!;
      this.#head = (i + 1) % cap;
    }
    this.#seq[i] = seq;
    this.#ts[i] = ts;
    this.#json[i] = json;
    this.#key[i] = key;
  }

  /**
   * Everything held, in seq order (the older ones first, then the ring's),
   * as log entries; the ring is empty afterwards.
   */
  drain(): LogEntry[] {
    const out: LogEntry[] = [];
    for (const o of this.#older.values()) {
      out.push(new StoredEntry(o.seq, o.ts, o.json));
    }
    const cap = this.#seq.length;
    for (let n = 0; n < this.#count; n++) {
      const i = (this.#head + n) % cap;
      out.push(new StoredEntry(this.#seq[i]!, this.#ts[i]!, this.#json[i]!));
      this.#json[i] = "";
    }
    this.#older.clear();
    this.#lastOut = null;
    this.#head = 0;
    this.#count = 0;
    return out;
  }
}
