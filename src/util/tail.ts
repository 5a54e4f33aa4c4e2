/**
 * The last N bytes of a stream, in bounded memory: a DB host may write a log of any size, and the
 * manager only needs its end (the tool's verdict, the checkpoints). Chunks are kept as they come
 * and trimmed from the front, so memory stays under N plus one chunk.
 */
export class Tail {
  readonly limit: number;
  private chunks: Buffer[] = [];
  private size = 0;
  /** Bytes seen in all, and bytes let go from the front. */
  total = 0;
  dropped = 0;

  constructor(limit: number) {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RangeError(`tail limit must be a positive integer`);
    this.limit = limit;
  }

  push(chunk: Buffer | string): void {
    const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.total += b.length;
    if (b.length >= this.limit) {
      this.dropped += this.size + b.length - this.limit;
      this.chunks = [b.subarray(b.length - this.limit)];
      this.size = this.limit;
      return;
    }
    this.chunks.push(b);
    this.size += b.length;
    while (this.size > this.limit) {
      const first = this.chunks[0]!;
      const over = this.size - this.limit;
      if (first.length <= over) {
        this.chunks.shift();
        this.size -= first.length;
        this.dropped += first.length;
      } else {
        this.chunks[0] = first.subarray(over);
        this.size -= over;
        this.dropped += over;
      }
    }
  }

  /**
   * The kept bytes as text. When the front was cut, the partial first line is left out and the
   * text starts with a note saying how much was skipped, so a reader never takes a cut line whole.
   */
  text(): string {
    let s = Buffer.concat(this.chunks, this.size).toString('utf8');
    if (this.dropped === 0) return s;
    const nl = s.indexOf('\n');
    s = nl < 0 ? '' : s.slice(nl + 1);
    return `[... ${this.total - Buffer.byteLength(s)} bytes of the log skipped ...]\n${s}`;
  }
}
