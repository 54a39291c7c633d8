/**
 * workloads.ts: the synthetic workloads, each over any `ReplayTarget`.
 * Main entry points: `heapEfficiency`, `randomActions`, `freeMallocPairs`,
 * `traceArenaBytes`.
 *
 * All random draws come from a seeded Rng. For the two timed workloads they
 * are drawn into typed arrays before the clock starts, so the timed loop
 * does only array reads, the allocator's calls and the bookkeeping of the
 * live-block list (which every peer pays alike, the bump allocator too).
 */
import type { ReplayTarget } from '../../src/trace/index.js';
import { Rng, pick } from './rng.js';

const MiB = 1 << 20;

/**
 * The untimed warm-up of a timed workload is split into this many calls, so
 * that the timed function itself is optimised (not only its loop through
 * on-stack replacement) before the timed call.
 */
export const WARMUP_CALLS = 8;

/** The [from, to) slices of `n` warm-up items for the WARMUP_CALLS calls: consecutive, covering [0, n). */
export function warmupRanges(n: number): [number, number][] {
	const out: [number, number][] = [];
	for (let k = 0; k < WARMUP_CALLS; k++) out.push([Math.floor((k * n) / WARMUP_CALLS), Math.floor(((k + 1) * n) / WARMUP_CALLS)]);
	return out;
}

/** Arena for replaying a trace: the power of two ≥ 4 × its peak live bytes, within [64 MiB, 2 GiB]. */
export function traceArenaBytes(peakLiveBytes: number): number {
	let a = 64 * MiB;
	while (a < 4 * peakLiveBytes && a < 2048 * MiB) a *= 2;
	return a;
}

/** Arena for the free+malloc pairs workload with `live` blocks of 16..256 bytes. */
export function pairsArenaBytes(live: number): number {
	let a = 64 * MiB;
	while (a < live * 512) a *= 2;
	return a;
}

/** talc's `generate_size(max)`: a cap drawn in [16, max), then a size in [4, cap). */
function talcSize(rng: Rng, max: number): number {
	const cap = rng.int(16, max);
	return rng.int(4, cap);
}

// ─── (b) Heap efficiency ─────────────────────────────────────────────────

export interface EfficiencyOptions {
	/** Largest allocation cap (talc: 10000). */
	maxAlloc: number;
	/** Realloc sizes are drawn in [1, reallocMax) (talc: 10 × 10000). */
	reallocMax: number;
	seed: number;
	/** Stop (and say so) after this many actions even without a failure. */
	maxActions: number;
}

export interface EfficiencyResult {
	/** Live requested bytes / arena bytes at the first failure. */
	efficiency: number;
	liveBytes: number;
	liveBlocks: number;
	actions: number;
	/** The call that failed first. */
	failedOn: 'malloc' | 'realloc' | 'none';
	elapsedMs: number;
}

/**
 * talc's heap-efficiency benchmark: random actions in a fixed arena until
 * the first failure. 50 %: allocate `talcSize(10000)`; 10 %: free a random
 * live block; 40 %: realloc a random live block to [1, 100000). The score
 * is the live requested bytes at the failure over the arena's bytes. A
 * failed realloc leaves its block (and its size) as it was, as in talc.
 */
export function heapEfficiency(t: ReplayTarget, arenaBytes: number, o: EfficiencyOptions): EfficiencyResult {
	const rng = new Rng(o.seed);
	const ptrs: number[] = [];
	const sizes: number[] = [];
	let live = 0;
	let actions = 0;
	let failedOn: EfficiencyResult['failedOn'] = 'none';
	const t0 = performance.now();
	for (; actions < o.maxActions; actions++) {
		const a = rng.below(10);
		if (a <= 4) {
			const size = talcSize(rng, o.maxAlloc);
			const p = t.malloc(size);
			if (p === 0) {
				failedOn = 'malloc';
				break;
			}
			ptrs.push(p);
			sizes.push(size);
			live += size;
		} else if (a === 5) {
			if (ptrs.length > 0) {
				const j = rng.below(ptrs.length);
				t.free(ptrs[j]);
				live -= sizes[j];
				const last = ptrs.length - 1;
				ptrs[j] = ptrs[last];
				sizes[j] = sizes[last];
				ptrs.pop();
				sizes.pop();
			}
		} else if (ptrs.length > 0) {
			const j = rng.below(ptrs.length);
			const size = rng.int(1, o.reallocMax);
			const q = t.realloc(ptrs[j], size);
			if (q === 0) {
				failedOn = 'realloc';
				break;
			}
			live += size - sizes[j];
			ptrs[j] = q;
			sizes[j] = size;
		}
	}
	return {
		efficiency: live / arenaBytes,
		liveBytes: live,
		liveBlocks: ptrs.length,
		actions,
		failedOn,
		elapsedMs: performance.now() - t0,
	};
}

// ─── (c) Random actions throughput ───────────────────────────────────────

export interface RandomOptions {
	maxSize: number;
	ops: number;
	warmupOps: number;
	seed: number;
	/** Below this many live blocks every non-realloc action allocates (talc: 300). */
	minLive: number;
	/** Realloc sizes are drawn in [1, reallocMulti × maxSize) (talc: 3). */
	reallocMulti: number;
}

export interface TimedResult {
	ops: number;
	elapsedMs: number;
	nsPerOp: number;
	/** Allocations or reallocations that returned 0 (expected: none). */
	failures: number;
	/** Most live blocks at any point of the timed part. */
	maxLive: number;
}

/** Pre-drawn actions: action code 0..6, size, and a u32 for picking a victim. */
interface Actions {
	act: Uint8Array;
	size: Float64Array;
	r: Uint32Array;
}

function drawActions(rng: Rng, n: number, maxSize: number, reallocMax: number): Actions {
	const act = new Uint8Array(n);
	const size = new Float64Array(n);
	const r = new Uint32Array(n);
	for (let i = 0; i < n; i++) {
		const a = rng.below(7);
		act[i] = a;
		size[i] = a === 6 ? rng.int(1, reallocMax) : talcSize(rng, maxSize);
		r[i] = rng.u32();
	}
	return { act, size, r };
}

/** Live blocks: parallel arrays with swap-remove, as talc's `Vec` of allocations. */
class LiveSet {
	ptr: Float64Array;
	size: Float64Array;
	len = 0;
	constructor(cap: number) {
		this.ptr = new Float64Array(cap);
		this.size = new Float64Array(cap);
	}
	push(p: number, s: number): void {
		if (this.len === this.ptr.length) {
			const ptr = new Float64Array(this.len * 2);
			ptr.set(this.ptr);
			const size = new Float64Array(this.len * 2);
			size.set(this.size);
			this.ptr = ptr;
			this.size = size;
		}
		this.ptr[this.len] = p;
		this.size[this.len] = s;
		this.len++;
	}
}

/** One pass of talc's random actions over `acts`; returns [failures, max live]. */
function runActions(t: ReplayTarget, acts: Actions, live: LiveSet, minLive: number): [number, number] {
	const { act, size, r } = acts;
	const n = act.length;
	let failures = 0;
	let maxLive = live.len;
	for (let i = 0; i < n; i++) {
		const a = act[i];
		if (a === 6) {
			if (live.len > 0) {
				const j = pick(r[i], live.len);
				const q = t.realloc(live.ptr[j], size[i]);
				if (q === 0) failures++;
				else {
					live.ptr[j] = q;
					live.size[j] = size[i];
				}
			}
		} else if (a < 3 || live.len < minLive) {
			const p = t.malloc(size[i]);
			if (p === 0) failures++;
			else {
				live.push(p, size[i]);
				if (live.len > maxLive) maxLive = live.len;
			}
		} else {
			const j = pick(r[i], live.len);
			t.free(live.ptr[j]);
			const last = --live.len;
			live.ptr[j] = live.ptr[last];
			live.size[j] = live.size[last];
		}
	}
	return [failures, maxLive];
}

/**
 * talc's random-actions benchmark with a fixed op count: each action is
 * 1/7 realloc a random live block to [1, 3 × max), 3/7 allocate
 * `talcSize(max)`, 3/7 free a random live block, except that below 300 live
 * blocks it allocates instead of freeing. So the live set hovers a little
 * above 300 blocks and the heap never runs out. A warm-up pass (other
 * seed) runs first and its blocks are freed; then the timed pass.
 */
export function randomActions(t: ReplayTarget, o: RandomOptions): TimedResult {
	const rng = new Rng(o.seed);
	const reallocMax = o.reallocMulti * o.maxSize;
	const warm = drawActions(rng, o.warmupOps, o.maxSize, reallocMax);
	const timed = drawActions(rng, o.ops, o.maxSize, reallocMax);
	const live = new LiveSet(1 << 12);
	// Warm-up in several calls, so that runActions itself is optimised.
	for (const [a, b] of warmupRanges(warm.act.length)) {
		runActions(t, { act: warm.act.subarray(a, b), size: warm.size.subarray(a, b), r: warm.r.subarray(a, b) }, live, o.minLive);
	}
	for (let i = 0; i < live.len; i++) t.free(live.ptr[i]);
	live.len = 0;
	const t0 = performance.now();
	const [failures, maxLive] = runActions(t, timed, live, o.minLive);
	const elapsedMs = performance.now() - t0;
	return { ops: o.ops, elapsedMs, nsPerOp: (elapsedMs * 1e6) / o.ops, failures, maxLive };
}

// ─── (d) free + malloc pairs at steady state ─────────────────────────────

export interface PairsOptions {
	live: number;
	pairs: number;
	warmupPairs: number;
	seed: number;
	minSize: number;
	maxSize: number;
}

function runPairs(t: ReplayTarget, ptrs: Float64Array, victim: Uint32Array, size: Float64Array): number {
	const n = victim.length;
	const len = ptrs.length;
	let failures = 0;
	for (let i = 0; i < n; i++) {
		const j = pick(victim[i], len);
		t.free(ptrs[j]);
		const p = t.malloc(size[i]);
		if (p === 0) failures++;
		ptrs[j] = p;
	}
	return failures;
}

/**
 * Fills the heap with `live` blocks of [minSize, maxSize] bytes, then
 * times `pairs` iterations of: free a random live block, malloc a new
 * random size in its place. A warm-up of `warmupPairs` runs first.
 * `nsPerOp` here is per pair.
 */
export function freeMallocPairs(t: ReplayTarget, o: PairsOptions): TimedResult {
	const rng = new Rng(o.seed);
	const ptrs = new Float64Array(o.live);
	let failures = 0;
	for (let i = 0; i < o.live; i++) {
		const p = t.malloc(rng.int(o.minSize, o.maxSize + 1));
		if (p === 0) failures++;
		ptrs[i] = p;
	}
	const draw = (n: number): [Uint32Array, Float64Array] => {
		const v = new Uint32Array(n);
		const s = new Float64Array(n);
		for (let i = 0; i < n; i++) {
			v[i] = rng.u32();
			s[i] = rng.int(o.minSize, o.maxSize + 1);
		}
		return [v, s];
	};
	const [wv, ws] = draw(o.warmupPairs);
	const [tv, ts] = draw(o.pairs);
	// Warm-up in several calls, so that runPairs itself is optimised.
	for (const [a, b] of warmupRanges(wv.length)) failures += runPairs(t, ptrs, wv.subarray(a, b), ws.subarray(a, b));
	const t0 = performance.now();
	failures += runPairs(t, ptrs, tv, ts);
	const elapsedMs = performance.now() - t0;
	return { ops: o.pairs, elapsedMs, nsPerOp: (elapsedMs * 1e6) / o.pairs, failures, maxLive: o.live };
}
