/** The one process API: exit codes, typed errors, timeouts that kill the whole group, last line kept. */
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { killGroup, liveChildren, outputChunks, pipeline, run, startDaemon } from '../../src/util/proc.js';
import { ProcessError } from '../../src/errors.js';

const node = process.execPath;
/** Running (a zombie waiting for a reaper that this container may lack counts as gone). */
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

t.test('run: output, exit code, env, input', async (t) => {
  const r = await run(
    node,
    ['-e', 'process.stdout.write(process.env.XB_T + require("fs").readFileSync(0, "utf8"))'],
    {
      timeoutMs: 10_000,
      env: { XB_T: 'env:' },
      input: 'in',
    },
  );
  t.strictSame([r.exitCode, r.stdout, r.timedOut], [0, 'env:in', false]);
  const bad = await run(node, ['-e', 'console.error("boom"); process.exit(3)'], {
    timeoutMs: 10_000,
    reject: false,
  });
  t.strictSame([bad.exitCode, bad.stderr], [3, 'boom\n']);
});

t.test('run: a failure is a ProcessError with exit code and stderr tail', async (t) => {
  const e = await run(node, ['-e', 'console.error("first\\nlast words"); process.exit(7)'], {
    timeoutMs: 10_000,
    label: 'thing',
  }).catch((x: unknown) => x);
  t.type(e, ProcessError);
  const p = e as ProcessError;
  t.strictSame([p.command, p.procExitCode, p.timedOut], ['thing', 7, false]);
  t.equal(p.message, 'thing exited with code 7: last words');
  t.match(p.stderrTail, /first\nlast words/);
  const missing = await run('/nonexistent/xb-mgr-no-such-binary', [], { timeoutMs: 5000 }).catch(
    (x: unknown) => x,
  );
  t.type(missing, ProcessError);
  t.equal((missing as ProcessError).procExitCode, undefined);
  t.match((missing as ProcessError).message, /ENOENT/);
});

t.test('run: the last stdout line without a newline reaches onStdoutLine', async (t) => {
  const lines: string[] = [];
  await run(node, ['-e', 'process.stdout.write("a\\nb\\nno newline")'], {
    timeoutMs: 10_000,
    onStdoutLine: (l) => lines.push(l),
  });
  t.strictSame(lines, ['a', 'b', 'no newline']);
});

t.test('run: a timeout kills the whole process group, grandchildren too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xb-proc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'grandchild.pid');
  const script = `
    const { spawn } = require('child_process');
    const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(c.pid));
    setInterval(() => {}, 1000);`;
  const t0 = Date.now();
  const r = await run(node, ['-e', script], { timeoutMs: 800, reject: false });
  t.ok(r.timedOut, 'timed out');
  t.ok(Date.now() - t0 < 8000, 'stopped promptly');
  const gc = Number(readFileSync(pidFile, 'utf8'));
  await new Promise((r) => setTimeout(r, 200));
  t.notOk(alive(gc), 'the grandchild in the group was killed');
  t.strictSame(liveChildren(), [], 'nothing left recorded as live');
  const e = await run(node, ['-e', 'setInterval(() => {}, 1000)'], {
    timeoutMs: 300,
    label: 'sleeper',
  }).catch((x: unknown) => x);
  t.equal((e as ProcessError).message, 'sleeper timed out');
});

t.test('run: output beyond keepBytes keeps the tail', async (t) => {
  const r = await run(node, ['-e', 'for (let i = 0; i < 5000; i++) console.log("line " + i)'], {
    timeoutMs: 10_000,
    keepBytes: 1000,
  });
  t.ok(r.stdout.length <= 1000);
  t.match(r.stdout, /line 4999\n$/);
});

t.test('pipeline: fd to fd, output file, first failing stage named', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xb-proc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const input = join(dir, 'in');
  const out = join(dir, 'out');
  writeFileSync(input, 'hello pipeline\n');
  let seen = 0;
  await pipeline(
    [
      { cmd: 'cat', args: [] },
      { cmd: 'tr', args: ['a-z', 'A-Z'] },
    ],
    { inputFile: input, outputFile: out, timeoutMs: 10_000, onOutput: (c) => (seen += c.length) },
  );
  t.equal(readFileSync(out, 'utf8'), 'HELLO PIPELINE\n');
  t.equal(seen, 15);
  const e = await pipeline(
    [
      { cmd: 'cat', args: [] },
      { cmd: node, args: ['-e', 'console.error("bad stage"); process.exit(4)'], label: 'second' },
    ],
    { inputFile: input, timeoutMs: 10_000 },
  ).catch((x: unknown) => x);
  t.type(e, ProcessError);
  t.equal((e as ProcessError).message, 'second exited with code 4: bad stage');
  const slow = await pipeline([{ cmd: node, args: ['-e', 'setInterval(() => {}, 1000)'], label: 'slow' }], {
    timeoutMs: 300,
  }).catch((x: unknown) => x);
  t.ok((slow as ProcessError).timedOut, 'pipeline timeout');
});

t.test('startDaemon: recorded while it runs, kill() reaps it', async (t) => {
  const d = startDaemon(node, ['-e', 'setInterval(() => {}, 1000)'], { timeoutMs: 60_000 });
  t.ok(d.isRunning());
  t.ok(liveChildren().includes(d.pid));
  await d.kill();
  t.notOk(d.isRunning());
  t.notOk(liveChildren().includes(d.pid));
});

t.test('killGroup refuses pid <= 1 and non-integers (never kill(-1))', async (t) => {
  for (const pid of [0, 1, -1, -5, NaN, 1.5, Infinity])
    t.doesNotThrow(() => killGroup(pid, 'SIGCONT'), String(pid));
});

t.test('outputChunks: a stream as input, its error, an early stop', async (t) => {
  const collect = async (it: AsyncIterable<Buffer>) => {
    const out: Buffer[] = [];
    for await (const c of it) out.push(c);
    return Buffer.concat(out).toString('utf8');
  };
  // A stream piped into stdin, the output read back with backpressure.
  const big = 'x'.repeat(1 << 20);
  const got = await collect(
    outputChunks('cat', [], { timeoutMs: 10_000, input: Readable.from([big, 'end'], { objectMode: false }) }),
  );
  t.equal(got.length, big.length + 3, 'every byte through');

  // The input fails midway (a download cut): its error, and the command is gone.
  const failing = new PassThrough();
  failing.write('some bytes');
  setTimeout(() => failing.destroy(new Error('connection reset')), 50);
  await t.rejects(
    collect(outputChunks('cat', [], { timeoutMs: 10_000, input: failing })),
    /connection reset/,
  );
  t.same(liveChildren(), [], 'no child left');

  // The reader stops early: the command is killed and the input destroyed.
  const endless = new PassThrough();
  const feed = setInterval(() => endless.write('y'.repeat(65536)), 5);
  for await (const c of outputChunks('cat', [], { timeoutMs: 10_000, input: endless })) {
    t.ok(c.length > 0);
    break;
  }
  clearInterval(feed);
  t.ok(endless.destroyed, 'input destroyed');
  t.same(liveChildren(), [], 'no child left');

  // A command that fails: ProcessError with its stderr, even with input still flowing.
  let failed: unknown;
  try {
    await collect(
      outputChunks(node, ['-e', 'process.stderr.write("bad header"); process.exit(3)'], {
        timeoutMs: 10_000,
        input: Readable.from(['a'.repeat(1 << 20)], { objectMode: false }),
      }),
    );
  } catch (e) {
    failed = e;
  }
  t.ok(failed instanceof ProcessError, 'a ProcessError');
  t.equal((failed as ProcessError).procExitCode, 3);
  t.match((failed as ProcessError).stderrTail, /bad header/);
});
