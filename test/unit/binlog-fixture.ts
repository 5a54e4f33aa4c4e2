/** Synthetic MariaDB binlog files for unit tests (checksummed events; CRCs are not checked). */
import { MAGIC } from '../../src/binlog/events.js';

export interface G {
  domain: number;
  server: number;
  seq: number;
}

function event(type: number, body: Buffer, time = 1_800_000_000, server = 1, checksum = true): Buffer {
  const len = 19 + body.length + (checksum ? 4 : 0);
  const h = Buffer.alloc(19);
  h.writeUInt32LE(time, 0);
  h.writeUInt8(type, 4);
  h.writeUInt32LE(server, 5);
  h.writeUInt32LE(len, 9);
  return Buffer.concat([h, body, Buffer.alloc(checksum ? 4 : 0)]);
}

export function fde(checksum = true, time = 1_800_000_000): Buffer {
  // version, server version, create time, header length, post-header lengths, checksum alg.
  const body = Buffer.alloc(2 + 50 + 4 + 1 + 40 + 1);
  body.writeUInt16LE(4, 0);
  body.write('10.11.19-MariaDB-log', 2);
  body.writeUInt8(19, 56);
  body.writeUInt8(checksum ? 1 : 0, body.length - 1);
  // The checksum alg byte is followed by the event's own 4-byte checksum.
  return event(15, body, time, 1, true);
}

export function gtidList(list: G[], time = 1_800_000_000): Buffer {
  const body = Buffer.alloc(4 + list.length * 16);
  body.writeUInt32LE(list.length, 0);
  list.forEach((g, i) => {
    body.writeUInt32LE(g.domain, 4 + i * 16);
    body.writeUInt32LE(g.server, 8 + i * 16);
    body.writeBigUInt64LE(BigInt(g.seq), 12 + i * 16);
  });
  return event(163, body, time);
}

export function gtid(g: G, time = 1_800_000_000, flags = 0): Buffer {
  const body = Buffer.alloc(8 + 4 + 1 + 6);
  body.writeBigUInt64LE(BigInt(g.seq), 0);
  body.writeUInt32LE(g.domain, 8);
  body.writeUInt8(flags, 12);
  return event(162, body, time, g.server);
}

/** A query event: a statement (`text`) after the post-header, status vars and the db name. */
export function query(time = 1_800_000_000, bytes = 60, text?: string, db = '', statusVars = 0): Buffer {
  const stmt = Buffer.from(text ?? 'x'.repeat(bytes), 'latin1');
  const post = Buffer.alloc(13);
  post.writeUInt8(db.length, 8);
  post.writeUInt16LE(statusVars, 11);
  const dbz = Buffer.concat([Buffer.from(db, 'latin1'), Buffer.alloc(1)]);
  return event(2, Buffer.concat([post, Buffer.alloc(statusVars, 3), dbz, stmt]), time);
}

export function xid(time = 1_800_000_000): Buffer {
  return event(16, Buffer.alloc(8), time);
}

export function rotate(name: string, time = 1_800_000_000): Buffer {
  const body = Buffer.concat([Buffer.alloc(8), Buffer.from(name, 'latin1')]);
  body.writeBigUInt64LE(4n, 0);
  return event(4, body, time);
}

export function stop(time = 1_800_000_000): Buffer {
  return event(3, Buffer.alloc(0), time);
}

/** A file: magic, format description, Gtid_list, one transaction per GTID, then `end`. */
export function binlogFile(o: { list: G[]; gtids: G[]; end?: Buffer; time?: number }): Buffer {
  const time = o.time ?? 1_800_000_000;
  return Buffer.concat([
    MAGIC,
    fde(true, time),
    gtidList(o.list, time),
    ...o.gtids.flatMap((g, i) => [gtid(g, time + i), query(time + i), xid(time + i)]),
    ...(o.end ? [o.end] : []),
  ]);
}
