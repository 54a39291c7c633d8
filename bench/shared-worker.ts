/**
 * shared-worker.ts: one worker thread of the multi-worker throughput
 * benchmark (shared.ts), which starts it through scripts/ts-worker.mjs
 * (registers tsx in the worker, then imports this module), with a
 * `SharedWorkerJob` as workerData. It opens its heap (attaches to the
 * shared one, or makes its own unshared one), draws its whole op sequence
 * from its seed, fills its live set, runs an untimed warm-up, posts
 * 'ready' and sleeps on the barrier word until the driver releases every
 * worker at once. It then times its ops (performance.timeOrigin + now(), so
 * that the figures of different threads compare), frees everything it
 * holds, releases its thread cache and posts its `SharedWorkerResult`.
 *
 * The op sequence depends only on the seed and the live count (never on the
 * addresses the heap returns), so a given worker index does exactly the same
 * work in every configuration.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Heap } from '../src/index.js';
import { Rng, pick } from './lib/rng.js';
import { warmupRanges } from './lib/workloads.js';

/** What the driver asks one worker to do. */
export interface SharedWorkerJob {
	/** 'shared': attach to `sab` at offset 0; 'unshared': a Heap over a new ArrayBuffer of `arenaBytes`. */
	heap: 'shared' | 'unshared';
	sab: SharedArrayBuffer | null;
	arenaBytes: number;
	/** Barrier: Int32 word CTL_GO turns 1 when every worker may start. */
	control: SharedArrayBuffer;
	/** Worker index within the run (its seed is seed + index). */
	index: number;
	seed: number;
	/** Timed ops. */
	ops: number;
	/** Untimed ops before the barrier (after the fill). */
	warmupOps: number;
	/** Steady-state live blocks; the live count stays within ±LIVE_BAND of it. */
	live: number;
}

/** What one worker reports. */
export interface SharedWorkerResult {
	index: number;
	/** Absolute times (performance.timeOrigin + now(), ms) of the timed loop. */
	start: number;
	end: number;
	ops: number;
	/** Ops of each kind in the timed part. */
	counts: { malloc: number; free: number; realloc: number; calloc: number };
	/** Touched bytes that read back wrong (another thread wrote into a live block, or calloc was not zero). */
	corrupt: number;
	/** Thread slot the worker's Heap object had (−1: none, every call takes the heap lock). */
	threadSlot: number;
	/** Blocks returned by releaseThreadCache at the end. */
	released: number;
	/** Unshared heaps only: check() violations and stats after everything was freed. */
	violations?: number;
	usedBytes?: number;
	liveBlocks?: number;
	/** Unshared heaps only: peak used bytes (how big the live set got). */
	peakUsedBytes?: number;
}

/** Barrier word (Int32 index in `control`). */
export const CTL_GO = 0;

/** Live count band: ops keep it within live × (1 ± LIVE_BAND). */
export const LIVE_BAND = 0.1;

/** The op mix, in percent (between the band's edges). */
export const MIX = { malloc: 42, calloc: 4, free: 46, realloc: 8 } as const;

/** Size distribution: SMALL_PCT % uniform in [8, 256], the rest uniform in [257, 4096] bytes. */
export const SIZES = { smallPct: 90, smallMin: 8, smallMax: 256, largeMin: 257, largeMax: 4096 } as const;

const OP_MALLOC = 0;
const OP_FREE = 1;
const OP_REALLOC = 2;
const OP_CALLOC = 3;

function drawSize(rng: Rng): number {
	return rng.below(100) < SIZES.smallPct ? rng.int(SIZES.smallMin, SIZES.smallMax + 1) : rng.int(SIZES.largeMin, SIZES.largeMax + 1);
}

/** The op sequence: kind, a raw u32 for picking a live block, a size. */
interface Ops {
	kind: Uint8Array;
	pick: Uint32Array;
	size: Uint32Array;
	fill: Uint32Array;
}

function makeOps(seed: number, live: number, count: number): Ops {
	const rng = new Rng(seed);
	const fill = new Uint32Array(live);
	for (let i = 0; i < live; i++) fill[i] = drawSize(rng);
	const kind = new Uint8Array(count);
	const pk = new Uint32Array(count);
	const size = new Uint32Array(count);
	const lo = Math.floor(live * (1 - LIVE_BAND));
	const hi = Math.ceil(live * (1 + LIVE_BAND));
	let n = live;
	for (let i = 0; i < count; i++) {
		let k: number;
		const r = rng.below(100);
		// At the band's edges the op is forced (an allocation below, a free above);
		// a forced allocation is a calloc in the mix's calloc : malloc proportion.
		if (n <= lo) k = r * (MIX.malloc + MIX.calloc) < 100 * MIX.calloc ? OP_CALLOC : OP_MALLOC;
		else if (n >= hi) k = OP_FREE;
		else if (r < MIX.malloc) k = OP_MALLOC;
		else if (r < MIX.malloc + MIX.calloc) k = OP_CALLOC;
		else if (r < MIX.malloc + MIX.calloc + MIX.free) k = OP_FREE;
		else k = OP_REALLOC;
		kind[i] = k;
		pk[i] = rng.u32();
		size[i] = drawSize(rng);
		if (k === OP_MALLOC || k === OP_CALLOC) n++;
		else if (k === OP_FREE) n--;
	}
	return { kind, pick: pk, size, fill };
}

/** The live blocks and the byte each was touched with. */
interface Live {
	ptr: Uint32Array;
	tag: Uint8Array;
	n: number;
	corrupt: number;
}

/**
 * Runs ops [from, to): the timed function (the warm-up calls it too). Every
 * new or moved block gets one byte written (its tag); a free or realloc
 * first checks that the byte is still there.
 */
function runOps(heap: Heap, u8: Uint8Array, ops: Ops, live: Live, from: number, to: number): void {
	const kind = ops.kind;
	const pk = ops.pick;
	const size = ops.size;
	const ptr = live.ptr;
	const tag = live.tag;
	let n = live.n;
	let corrupt = live.corrupt;
	for (let i = from; i < to; i++) {
		const k = kind[i];
		if (k === OP_MALLOC) {
			const p = heap.malloc(size[i]);
			if (p === 0) throw new Error(`malloc(${size[i]}) failed at op ${i}`);
			const t = (i & 0xff) | 1;
			u8[p] = t;
			ptr[n] = p;
			tag[n] = t;
			n++;
		} else if (k === OP_FREE) {
			const j = pick(pk[i], n);
			const p = ptr[j];
			if (u8[p] !== tag[j]) corrupt++;
			heap.free(p);
			n--;
			ptr[j] = ptr[n];
			tag[j] = tag[n];
		} else if (k === OP_REALLOC) {
			const j = pick(pk[i], n);
			const q = heap.realloc(ptr[j], size[i]);
			if (q === 0) throw new Error(`realloc(…, ${size[i]}) failed at op ${i}`);
			if (u8[q] !== tag[j]) corrupt++;
			const t = (i & 0xff) | 1;
			u8[q] = t;
			ptr[j] = q;
			tag[j] = t;
		} else {
			const p = heap.calloc(1, size[i]);
			if (p === 0) throw new Error(`calloc(1, ${size[i]}) failed at op ${i}`);
			if (u8[p] !== 0) corrupt++;
			const t = (i & 0xff) | 1;
			u8[p] = t;
			ptr[n] = p;
			tag[n] = t;
			n++;
		}
	}
	live.n = n;
	live.corrupt = corrupt;
}

function main(job: SharedWorkerJob): SharedWorkerResult {
	const port = parentPort;
	if (port === null) throw new Error('shared-worker.ts must run in a worker thread');
	const heap = job.heap === 'shared' ? Heap.attach(job.sab as SharedArrayBuffer, 0, { owner: job.index + 1 }) : new Heap({ buffer: new ArrayBuffer(job.arenaBytes) });
	const u8 = new Uint8Array(heap.buffer);
	const total = job.warmupOps + job.ops;
	const ops = makeOps(job.seed + job.index, job.live, total);
	const cap = Math.ceil(job.live * (1 + LIVE_BAND)) + 2;
	const live: Live = { ptr: new Uint32Array(cap), tag: new Uint8Array(cap), n: 0, corrupt: 0 };
	for (let i = 0; i < job.live; i++) {
		const p = heap.malloc(ops.fill[i]);
		if (p === 0) throw new Error(`fill: malloc(${ops.fill[i]}) failed`);
		u8[p] = 1;
		live.ptr[i] = p;
		live.tag[i] = 1;
	}
	live.n = job.live;
	// Warm-up in several calls, so that runOps itself is optimised.
	for (const [from, to] of warmupRanges(job.warmupOps)) runOps(heap, u8, ops, live, from, to);
	const warmCorrupt = live.corrupt;
	live.corrupt = 0;

	const ctl = new Int32Array(job.control);
	port.postMessage({ type: 'ready' });
	while (Atomics.load(ctl, CTL_GO) === 0) Atomics.wait(ctl, CTL_GO, 0);
	const start = performance.timeOrigin + performance.now();
	runOps(heap, u8, ops, live, job.warmupOps, total);
	const end = performance.timeOrigin + performance.now();

	const counts = { malloc: 0, free: 0, realloc: 0, calloc: 0 };
	for (let i = job.warmupOps; i < total; i++) {
		const k = ops.kind[i];
		if (k === OP_MALLOC) counts.malloc++;
		else if (k === OP_FREE) counts.free++;
		else if (k === OP_REALLOC) counts.realloc++;
		else counts.calloc++;
	}
	for (let j = 0; j < live.n; j++) {
		if (u8[live.ptr[j]] !== live.tag[j]) live.corrupt++;
		heap.free(live.ptr[j]);
	}
	const threadSlot = heap.threadSlot;
	const released = heap.releaseThreadCache();
	const res: SharedWorkerResult = { index: job.index, start, end, ops: job.ops, counts, corrupt: live.corrupt + warmCorrupt, threadSlot, released };
	if (job.heap === 'unshared') {
		const st = heap.stats();
		res.violations = heap.check().length;
		res.usedBytes = st.usedBytes;
		res.liveBlocks = st.liveBlocks;
		res.peakUsedBytes = st.peakUsedBytes;
	}
	return res;
}

// The driver imports this module for its constants and types: run only in a worker.
if (!isMainThread) {
	try {
		parentPort?.postMessage({ type: 'result', result: main(workerData as SharedWorkerJob) });
	} catch (e) {
		parentPort?.postMessage({ type: 'error', message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
	}
}
