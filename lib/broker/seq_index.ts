/**
 * Compact seq → (byte offset, byte span) index of the session log, about
 * 4 bytes per entry: a span per seq in fixed 64 Ki-entry pages (never
 * reallocated, so no allocator churn), plus the absolute offset of the first
 * indexed seq of every 64-seq block. An entry's span runs to the next indexed
 * entry, so bytes of skipped (corrupt) lines stay inside a span and offsets
 * remain exact.
 * @module
 */

const PAGE_BITS = 16;
const PAGE = 1 << PAGE_BITS;
const BLOCK_BITS = 6;

/** The arrays behind a {@link SeqIndex}, for a checkpoint (see `export()`). */
export type SeqIndexImage = {
  lastSeq: number;
  lastOffset: number;
  /** Span pages of {@link SEQ_INDEX_PAGE} entries each. */
  pages: Uint32Array[];
  /** Offset of the first indexed seq of every 64-seq block (-1: none). */
  blocks: Float64Array;
};

/** Entries per span page of a {@link SeqIndex}. */
export const SEQ_INDEX_PAGE = 1 << 16;

/** See module docs. */
export class SeqIndex {
  #pages: Uint32Array[] = [];
  #blocks: Float64Array = new Float64Array(1024).fill(-1);
  #lastSeq = 0;
  #lastOffset = 0;

  /**
   * The index's arrays. Pages are shared, not copied: every page but the
   * last two is final (a `set()` only writes the newest seq and the one
   * before it); `blocks` is shared too, so copy what must not change.
   */
  export(): SeqIndexImage {
    return {
      lastSeq: this.#lastSeq,
      lastOffset: this.#lastOffset,
      pages: this.#pages.slice(),
      blocks: this.#blocks,
    };
  }

  /** An index over `image` (its arrays are adopted, not copied). */
  static restore(image: SeqIndexImage): SeqIndex {
    const idx = new SeqIndex();
    for (const p of image.pages) {
      if (p.length !== PAGE) throw new RangeError("Cannot restore: bad page");
    }
    idx.#pages = image.pages;
    idx.#blocks = image.blocks.length ? image.blocks : idx.#blocks;
    idx.#lastSeq = image.lastSeq;
    idx.#lastOffset = image.lastOffset;
    return idx;
  }

  #span(seq: number): number {
    const page = this.#pages[seq >>> PAGE_BITS];
    return page ? page[seq & (PAGE - 1)]! : 0;
  }

  #setSpan(seq: number, span: number): void {
    const p = seq >>> PAGE_BITS;
    while (this.#pages.length <= p) this.#pages.push(new Uint32Array(PAGE));
    this.#pages[p]![seq & (PAGE - 1)] = span;
  }

  /** Record `seq` at `offset` with a line of `length` bytes (seqs ascend). */
  set(seq: number, offset: number, length: number): void {
    if (this.#lastSeq > 0) {
      this.#setSpan(this.#lastSeq, offset - this.#lastOffset);
    }
    this.#setSpan(seq, length);
    const b = seq >>> BLOCK_BITS;
    if (b >= this.#blocks.length) {
      let n = this.#blocks.length;
      while (n <= b) n *= 2;
      const grown = new Float64Array(n).fill(-1);
      grown.set(this.#blocks);
      this.#blocks = grown;
    }
    if (this.#blocks[b]! < 0) this.#blocks[b] = offset;
    this.#lastSeq = seq;
    this.#lastOffset = offset;
  }

  /** True when `seq` has a line in the log. */
  has(seq: number): boolean {
    return this.#span(seq) > 0;
  }

  /** Bytes from `seq`'s line to the next indexed line (0 if absent). */
  span(seq: number): number {
    return this.#span(seq);
  }

  /** Byte offset of `seq`'s line (`-1` if absent). O(64). */
  offset(seq: number): number {
    if (!this.has(seq)) return -1;
    const b = seq >>> BLOCK_BITS;
    let off = this.#blocks[b]!;
    for (let s = b << BLOCK_BITS; s < seq; s++) off += this.#span(s);
    return off;
  }
}
