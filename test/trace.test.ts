/**
 * trace.test.ts: the alloc-trace reader (plain, gzip, chunked, every error
 * with its line) and the replayer (exact figures on a hand-computed trace,
 * failures, real traces through a Heap).
 */
import assert from 'node:assert/strict';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Heap, layout } from '../src/index.js';
import {
	MAX_LINE_BYTES,
	OP_CALLOC,
	OP_FREE,
	OP_MALLOC,
	OP_MEMALIGN,
	OP_REALLOC,
	ReplayError,
	type ReplayTarget,
	type Trace,
	TraceError,
	type TraceErrorCode,
	lineOf,
	readTrace,
	replay,
} from '../src/trace/index.js';

const SQLITE = fileURLToPath(new URL('../traces/sqlite-index.trace.gz', import.meta.url));
const SHARED = fileURLToPath(new URL('../../shared/traces/', import.meta.url));
const SHARED_TRACES = ['sqlite-index', 'jq-groupby', 'python-ast-json'];

const enc = new TextEncoder();

/** A small trace that uses every op, comments, a blank line, CRLF and tabs. */
const SMALL = [
	'# alloc-trace v1 program=tiny extra=1',
	'a 1 100',
	'# a comment',
	'c 2 48',
	'',
	'm 3 64 10\r',
	'r 1 300',
	'a\t4   0  ',
	'f 2',
	'r 1 0',
	'f 3',
].join('\n');

/** Splits `bytes` into chunks of 1..7 bytes (fixed seed). */
function tinyChunks(bytes: Uint8Array, seed = 7): Uint8Array[] {
	const out: Uint8Array[] = [];
	let x = seed;
	for (let i = 0; i < bytes.length; ) {
		x = (x * 1103515245 + 12345) >>> 0;
		const n = 1 + ((x >>> 16) % 7);
		out.push(bytes.slice(i, i + n));
		i += n;
	}
	return out;
}

/** The chunks as a ReadableStream. */
function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
	let i = 0;
	return new ReadableStream<Uint8Array>({
		pull(c) {
			if (i < chunks.length) c.enqueue(chunks[i++]);
			else c.close();
		},
	});
}

/** The chunks as an async generator. */
async function* asyncOf(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
	for (const c of chunks) yield c;
}

/** Rejects with a TraceError of `code` at `line`, with a one-line message. */
async function assertTraceError(p: Promise<unknown>, code: TraceErrorCode, line: number): Promise<TraceError> {
	let caught: unknown;
	try {
		await p;
	} catch (e) {
		caught = e;
	}
	assert.ok(caught instanceof TraceError, `expected TraceError ${code}, got ${String(caught)}`);
	assert.equal(caught.code, code, caught.message);
	assert.equal(caught.line, line, caught.message);
	assert.ok(caught.message.startsWith(`line ${line}: `), caught.message);
	assert.ok(!caught.message.includes('\n'), 'message is one line');
	return caught;
}

// ─── Reader ─────────────────────────────────────────────────────────────

test('reads every op, the header and the summary figures', async () => {
	const t = await readTrace(SMALL);
	assert.equal(t.program, 'tiny');
	assert.equal(t.header, 'alloc-trace v1 program=tiny extra=1');
	assert.equal(t.ops, 8);
	assert.equal(t.lines, 11);
	assert.deepEqual([...t.kind], [OP_MALLOC, OP_CALLOC, OP_MEMALIGN, OP_REALLOC, OP_MALLOC, OP_FREE, OP_REALLOC, OP_FREE]);
	assert.deepEqual([...t.id], [1, 2, 3, 1, 4, 2, 1, 3]);
	assert.deepEqual([...t.size], [100, 48, 10, 300, 0, 0, 0, 0]);
	assert.deepEqual(t.align && [...t.align], [0, 0, 64, 0, 0, 0, 0, 0]);
	assert.deepEqual([...t.gaps], [0, 1, 2]);
	assert.deepEqual(
		[0, 1, 2, 3, 7].map((op) => lineOf(t, op)),
		[2, 4, 6, 7, 11],
	);
	assert.deepEqual(t.counts, { malloc: 2, calloc: 1, memalign: 1, realloc: 2, free: 2 });
	assert.equal(t.maxId, 4);
	assert.equal(t.peakLiveBytes, 358);
	assert.equal(t.maxLiveObjects, 4);
	assert.equal(t.largestRequest, 300);
	assert.equal(t.leakedObjects, 2);
	assert.equal(t.leakedBytes, 0);
});

test('no header, no trailing newline, no m op: program null, align null', async () => {
	const t = await readTrace('a 1 8\nf 1');
	assert.equal(t.program, null);
	assert.equal(t.header, null);
	assert.equal(t.align, null);
	assert.equal(t.ops, 2);
	assert.equal(lineOf(t, 1), 2);
	const empty = await readTrace('');
	assert.equal(empty.ops, 0);
	assert.equal(empty.lines, 0);
});

test('a UTF-8 BOM before the header is skipped; SharedArrayBuffer views are read', async () => {
	const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('# alloc-trace v1 program=bom\na 1 8\n')]);
	assert.equal((await readTrace(bom)).program, 'bom');
	for (const data of [bom, new Uint8Array(gzipSync(bom))]) {
		const shared = new Uint8Array(new SharedArrayBuffer(data.length));
		shared.set(data);
		assert.equal((await readTrace(shared)).ops, 1);
	}
	const sharedBad = new Uint8Array(new SharedArrayBuffer(6));
	sharedBad.set(enc.encode('x 1 8\n'));
	await assertTraceError(readTrace(sharedBad), 'UNKNOWN_OP', 1);
});

test('a dead id may be allocated again', async () => {
	const t = await readTrace('a 1 8\nf 1\na 1 16\nf 1\n');
	assert.equal(t.ops, 4);
	assert.equal(t.peakLiveBytes, 16);
});

/** Every trace field, for comparisons that ignore how the columns are backed. */
function plain(t: Trace): unknown {
	return { ...t, kind: [...t.kind], id: [...t.id], size: [...t.size], align: t.align && [...t.align], gaps: [...t.gaps] };
}

test('every source kind, plain and gzip, whole and in 1-7 byte chunks, decodes the same', async () => {
	const want = plain(await readTrace(SMALL));
	const bytes = enc.encode(SMALL);
	const gz = new Uint8Array(gzipSync(bytes));
	for (const data of [bytes, gz]) {
		const chunks = tinyChunks(data);
		assert.ok(chunks.length > 10);
		assert.deepEqual(plain(await readTrace(data)), want);
		assert.deepEqual(plain(await readTrace(data.slice().buffer)), want);
		assert.deepEqual(plain(await readTrace(chunks)), want);
		assert.deepEqual(plain(await readTrace(asyncOf(chunks))), want);
		assert.deepEqual(plain(await readTrace(streamOf(chunks))), want);
		assert.deepEqual(plain(await readTrace(streamOf([data]))), want);
	}
});

test('a real trace decodes the same in tiny chunks as whole (gzip and plain)', async () => {
	const gz = new Uint8Array(readFileSync(SQLITE));
	// The first 20k lines keep this fast; the tail is cut at a line end.
	const text = new Uint8Array(gunzipSync(gz));
	let cut = 0;
	for (let lines = 0; lines < 20000; lines++) cut = text.indexOf(10, cut) + 1;
	const head = text.slice(0, cut);
	const want = plain(await readTrace(head));
	assert.deepEqual(plain(await readTrace(tinyChunks(head, 3))), want);
	assert.deepEqual(plain(await readTrace(tinyChunks(new Uint8Array(gzipSync(head)), 5))), want);
	assert.equal((want as Trace).ops, 19999);
});

// ─── Reader errors ──────────────────────────────────────────────────────

/** Two good op lines and two non-op lines before the case: it is on line 5. */
const PREFIX = '# alloc-trace v1 program=bad\na 1 8\n\n# note\n';
const ERRORS: [string, TraceErrorCode, string][] = [
	['x 1 8', 'UNKNOWN_OP', 'unknown op "x"'],
	['ab 1 8', 'UNKNOWN_OP', 'unknown op "ab"'],
	['A 2 8', 'UNKNOWN_OP', 'unknown op "A"'],
	['a 2', 'FIELD_COUNT', "'a' takes 2 fields (id size), got 1"],
	['a 2 8 8', 'FIELD_COUNT', "'a' takes 2 fields (id size), got 3"],
	['c 2', 'FIELD_COUNT', "'c' takes 2 fields"],
	['m 2 8', 'FIELD_COUNT', "'m' takes 3 fields (id align size), got 2"],
	['r 1', 'FIELD_COUNT', "'r' takes 2 fields"],
	['f', 'FIELD_COUNT', "'f' takes 1 field (id), got 0"],
	['f 1 8', 'FIELD_COUNT', "'f' takes 1 field (id), got 2"],
	['a 2 1.5', 'BAD_SIZE', 'got "1.5"'],
	['a 2 -3', 'BAD_SIZE', 'got "-3"'],
	['a 2 1e3', 'BAD_SIZE', 'got "1e3"'],
	['a 2 9007199254740992', 'BAD_SIZE', 'got "9007199254740992"'],
	['r 1 -1', 'BAD_SIZE', 'non-negative'],
	['m 2 8 x', 'BAD_SIZE', 'got "x"'],
	['a 0 8', 'BAD_ID', 'got "0"'],
	['a -2 8', 'BAD_ID', 'got "-2"'],
	['f one', 'BAD_ID', 'got "one"'],
	['a 268435456 8', 'BAD_ID', 'got "268435456"'],
	['m 2 24 8', 'BAD_ALIGN', 'got "24"'],
	['m 2 0 8', 'BAD_ALIGN', 'got "0"'],
	['m 2 4294967296 8', 'BAD_ALIGN', 'got "4294967296"'],
	['f 2', 'UNKNOWN_ID', 'free of id 2, which was never allocated'],
	['r 99999 8', 'UNKNOWN_ID', 'realloc of id 99999, which was never allocated'],
	['a 1 8', 'LIVE_ID', 'malloc of id 1, which is already live'],
	['c 1 8', 'LIVE_ID', 'calloc of id 1'],
	['m 1 16 8', 'LIVE_ID', 'aligned alloc of id 1'],
];

test('every bad line is a TraceError with its code and line number', async () => {
	for (const [line, code, text] of ERRORS) {
		const e = await assertTraceError(readTrace(`${PREFIX}${line}\nf 1\n`), code, 5);
		assert.ok(e.message.includes(text), `${line}: ${e.message}`);
	}
});

test('free and realloc of a dead id name the line that used it', async () => {
	await assertTraceError(readTrace('a 1 8\nf 1\nf 1\n'), 'DEAD_ID', 3);
	const e = await assertTraceError(readTrace('a 1 8\n# x\nf 1\nr 1 16\n'), 'DEAD_ID', 4);
	assert.equal(e.message, 'line 4: realloc of id 1, which was already freed');
});

test('header versions other than v1 are refused; other first-line comments are not headers', async () => {
	await assertTraceError(readTrace('# alloc-trace v2 program=x\na 1 8\n'), 'BAD_HEADER', 1);
	const t = await readTrace('# recorded by hand\na 1 8\n');
	assert.equal(t.header, null);
	assert.equal(lineOf(t, 0), 2);
});

test('errors are the same whole, in tiny chunks and gzip\'d', async () => {
	for (const [line, code] of ERRORS) {
		const bytes = enc.encode(`${PREFIX}${line}\nf 1\n`);
		await assertTraceError(readTrace(tinyChunks(bytes, line.length)), code, 5);
		await assertTraceError(readTrace(streamOf(tinyChunks(new Uint8Array(gzipSync(bytes))))), code, 5);
	}
	// The last line, without a newline, is checked too.
	await assertTraceError(readTrace(tinyChunks(enc.encode('a 1 8\nf 2'))), 'UNKNOWN_ID', 2);
});

test('a line over MAX_LINE_BYTES is refused, whole or in chunks', async () => {
	const long = `a 1 8\n# ${'x'.repeat(MAX_LINE_BYTES)}\nf 1\n`;
	await assertTraceError(readTrace(long), 'LINE_TOO_LONG', 2);
	const bytes = enc.encode(long);
	const chunks = [];
	for (let i = 0; i < bytes.length; i += 4096) chunks.push(bytes.subarray(i, i + 4096));
	await assertTraceError(readTrace(chunks), 'LINE_TOO_LONG', 2);
});

test('corrupt or truncated gzip is TraceError BAD_INPUT; a failing source rethrows its error', async () => {
	const gz = new Uint8Array(gzipSync(enc.encode(`${'a 1 8\nf 1\n'.repeat(1000)}`)));
	// Cut inside the data or inside the 8-byte trailer: either way it is not a whole trace.
	for (const cut of [30, 10, 4, 1]) {
		const e = await readTrace(gz.subarray(0, gz.length - cut)).catch((x: unknown) => x);
		assert.ok(e instanceof TraceError && e.code === 'BAD_INPUT', `cut ${cut}: ${String(e)}`);
		assert.ok(e.line >= 1 && e.line <= 2001 && e.message.startsWith(`line ${e.line}: `), e.message);
	}
	const bad = gz.slice();
	bad.fill(0xff, 10, 40);
	const e = await readTrace(bad).catch((x: unknown) => x);
	assert.ok(e instanceof TraceError && e.code === 'BAD_INPUT', String(e));
	const boom = new Error('disk on fire');
	async function* failing(): AsyncGenerator<Uint8Array> {
		yield gz.subarray(0, 100);
		throw boom;
	}
	await assert.rejects(readTrace(failing()), (x) => x === boom);
	async function* failingPlain(): AsyncGenerator<Uint8Array> {
		yield enc.encode('a 1 8\n');
		throw boom;
	}
	await assert.rejects(readTrace(failingPlain()), (x) => x === boom);
});

test('a decoding error cancels the source stream', async () => {
	let cancelled = false;
	let pulls = 0;
	const stream = new ReadableStream<Uint8Array>({
		pull(c) {
			pulls++;
			c.enqueue(enc.encode(pulls === 1 ? 'a 1 8\nx\n' : 'f 1\n'));
		},
		cancel() {
			cancelled = true;
		},
	});
	await assertTraceError(readTrace(stream), 'UNKNOWN_OP', 2);
	assert.ok(cancelled);
});

// ─── Replay ─────────────────────────────────────────────────────────────

/**
 * A bump allocator at base 1000 that never reuses memory: every malloc,
 * calloc and realloc returns the next address and moves it on by the size
 * (at least 1). It logs each call.
 */
class Bump implements ReplayTarget {
	next = 1000;
	log: string[] = [];
	constructor(readonly limit = Number.POSITIVE_INFINITY) {}
	private take(size: number): number {
		if (this.next + size > this.limit) return 0;
		const p = this.next;
		this.next += Math.max(size, 1);
		return p;
	}
	malloc(size: number): number {
		this.log.push(`malloc ${size}`);
		return this.take(size);
	}
	calloc(count: number, size: number): number {
		this.log.push(`calloc ${count} ${size}`);
		return this.take(count * size);
	}
	alignedAlloc(align: number, size: number): number {
		this.log.push(`alignedAlloc ${align} ${size}`);
		this.next = Math.ceil(this.next / align) * align;
		return this.take(size);
	}
	realloc(ptr: number, size: number): number {
		this.log.push(`realloc ${ptr} ${size}`);
		return this.take(size);
	}
	free(ptr: number): void {
		this.log.push(`free ${ptr}`);
	}
}

/*
 * By hand, with Bump:            live bytes   ptr    ptr+size
 *   a 1 100                      100          1000   1100
 *   a 2 50                       150          1100   1150
 *   f 1                          50
 *   c 3 30                       80           1150   1180
 *   r 2 200                      230 (peak)   1180   1380
 *   a 4 0                        230          1380   1380
 *   f 3                          200
 * lowest ptr 1000, highest end 1380: footprint 380.
 */
const HAND = '# alloc-trace v1 program=hand\na 1 100\na 2 50\nf 1\nc 3 30\nr 2 200\na 4 0\nf 3\n';

test('replay figures on a hand-computed trace are exact', async () => {
	const bump = new Bump();
	const progress: [number, number][] = [];
	const r = replay(await readTrace(HAND), bump, { onProgress: (done, total) => progress.push([done, total]) });
	assert.deepEqual(bump.log, ['malloc 100', 'malloc 50', 'free 1000', 'calloc 1 30', 'realloc 1100 200', 'malloc 0', 'free 1150']);
	assert.equal(r.ops, 7);
	assert.equal(r.totalOps, 7);
	assert.equal(r.peakLiveBytes, 230);
	assert.equal(r.footprintBytes, 380);
	assert.equal(r.fragmentation, 380 / 230 - 1);
	assert.equal(r.liveObjects, 2);
	assert.equal(r.liveBytes, 200);
	assert.equal(r.failedAt, undefined);
	assert.ok(r.nsPerOp >= 0 && Number.isFinite(r.nsPerOp));
	assert.deepEqual(progress, [[7, 7]]);
});

test('calloc falls back to malloc; m needs alignedAlloc', async () => {
	const log: string[] = [];
	const target: ReplayTarget = {
		malloc: (n) => (log.push(`malloc ${n}`), 8),
		free: () => {},
		realloc: (_p, n) => (log.push(`realloc ${n}`), 8),
	};
	replay(await readTrace('c 1 30\n'), target);
	assert.deepEqual(log, ['malloc 30']);
	const aligned = await readTrace('m 1 64 8\n');
	assert.throws(() => replay(aligned, target), /no alignedAlloc/);
});

test('aligned allocations go to alignedAlloc with their alignment', async () => {
	const bump = new Bump();
	const r = replay(await readTrace('a 1 3\nm 2 64 8\n'), bump);
	assert.deepEqual(bump.log, ['malloc 3', 'alignedAlloc 64 8']);
	assert.equal(r.footprintBytes, 1024 + 8 - 1000);
});

test('a failed allocation stops the replay and is reported, not hidden', async () => {
	const trace = await readTrace('# alloc-trace v1\na 1 100\n# x\na 2 100\nm 3 16 8\n');
	const r = replay(trace, new Bump(1150));
	assert.equal(r.ops, 1);
	assert.deepEqual(r.failedAt, { op: 1, line: 4, kind: 'a', size: 100, id: 2 });
	assert.equal(r.peakLiveBytes, 100);
	assert.equal(r.footprintBytes, 100);
	const m = replay(trace, new Bump(1207));
	assert.deepEqual(m.failedAt, { op: 2, line: 5, kind: 'm', size: 8, id: 3, align: 16 });
});

test('failedAt on a heap that is too small; the heap stays sound', async () => {
	const heap = new Heap({ size: 64 * 1024 });
	const trace = await readTrace('a 1 1000\na 2 100\nr 1 100000\nf 2\n');
	const r = replay(trace, heap);
	assert.deepEqual(r.failedAt, { op: 2, line: 3, kind: 'r', size: 100000, id: 1 });
	assert.equal(r.ops, 2);
	assert.equal(r.liveObjects, 2);
	assert.deepEqual(heap.check(), []);
	assert.equal(heap.stats().liveBlocks, 2);
	const big = new Heap({ size: 64 * 1024 });
	const a = replay(await readTrace('a 1 1000\na 2 1000000\n'), big);
	assert.deepEqual(a.failedAt, { op: 1, line: 2, kind: 'a', size: 1000000, id: 2 });
});

test('replay through a Heap: exact footprint of two mallocs, malloc(0) passed through', async () => {
	const heap = new Heap({ size: 1 << 20 });
	const r = replay(await readTrace('a 1 100\na 2 50\na 3 0\n'), heap);
	// A fresh heap carves blocks in address order from the first one.
	assert.equal(r.footprintBytes, layout.blockSizeFor(100) + layout.blockSizeFor(50));
	assert.equal(r.peakLiveBytes, 150);
	assert.equal(heap.stats().liveBlocks, 3);
});

test('an exception from the target is a ReplayError naming the op and line', async () => {
	const heap = new Heap({ size: 1 << 20 });
	const target: ReplayTarget = {
		malloc: (n) => heap.malloc(n),
		realloc: (p, n) => heap.realloc(p, n),
		free: (p) => heap.free(p + 8), // a pointer the heap never returned
	};
	const trace = await readTrace('a 1 100\n# x\nf 1\n');
	const e = (() => {
		try {
			replay(trace, target);
		} catch (x) {
			return x;
		}
	})();
	assert.ok(e instanceof ReplayError);
	assert.equal(e.op, 1);
	assert.equal(e.line, 3);
	assert.equal(e.kind, 'f');
	assert.equal((e.cause as { code?: string }).code, 'INVALID_POINTER');
});

// ─── Real traces ────────────────────────────────────────────────────────

/** Replays `trace` through a fresh heap and checks the heap and its stats agree with the report. */
function replayChecked(trace: Trace, size: number): ReturnType<typeof replay> {
	const heap = new Heap({ size });
	let calls = 0;
	const r = replay(trace, heap, { onProgress: () => calls++ });
	assert.equal(r.failedAt, undefined, JSON.stringify(r.failedAt));
	assert.equal(r.ops, trace.ops);
	assert.equal(calls, Math.ceil(trace.ops / 65536));
	assert.equal(r.peakLiveBytes, trace.peakLiveBytes);
	assert.equal(r.liveObjects, trace.leakedObjects);
	assert.equal(r.liveBytes, trace.leakedBytes);
	assert.ok(r.footprintBytes >= r.peakLiveBytes);
	assert.deepEqual(heap.check(), []);
	const s = heap.stats();
	assert.equal(s.liveBlocks, trace.leakedObjects);
	assert.ok(s.usedBytes >= trace.leakedBytes);
	assert.equal(s.usedBytes + s.freeBytes + s.overheadBytes + s.cachedBytes, s.regionBytes);
	let used = 0;
	let live = 0;
	for (const b of heap.blocks()) {
		if (!b.free && !b.cached && !b.internal) {
			used += b.size - 4;
			live++;
		}
	}
	assert.equal(used, s.usedBytes);
	assert.equal(live, s.liveBlocks);
	return r;
}

test('traces/sqlite-index.trace.gz replays through a 64 MiB Heap and leaves it sound', async () => {
	const trace = await readTrace(createReadStream(SQLITE));
	assert.equal(trace.program, 'sqlite3');
	// The figures traces/README.md gives for this trace.
	assert.equal(trace.ops, 411428);
	assert.equal(trace.peakLiveBytes, 13876452);
	assert.equal(trace.maxLiveObjects, 8392);
	assert.equal(trace.largestRequest, 2048008);
	replayChecked(trace, 64 << 20);
	// On an 8 MiB heap it runs out; the heap is still sound.
	const small = new Heap({ size: 8 << 20 });
	const r = replay(trace, small);
	assert.ok(r.failedAt !== undefined);
	assert.equal(r.failedAt.line, lineOf(trace, r.failedAt.op));
	assert.equal(r.ops, r.failedAt.op);
	assert.deepEqual(small.check(), []);
	assert.equal(small.stats().liveBlocks, r.liveObjects);
});

for (const name of SHARED_TRACES) {
	const path = `${SHARED}${name}.trace.gz`;
	test(`shared trace ${name} replays through a 256 MiB Heap`, async (t) => {
		if (!existsSync(path)) {
			t.skip(`${path} is not there`);
			return;
		}
		const trace = await readTrace(createReadStream(path));
		const r = replayChecked(trace, 256 << 20);
		t.diagnostic(`${name}: ${trace.ops} ops, ${r.nsPerOp.toFixed(0)} ns/op, fragmentation ${(r.fragmentation * 100).toFixed(2)} %`);
	});
}
