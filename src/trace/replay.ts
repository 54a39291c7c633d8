/**
 * replay.ts: runs a decoded trace through an allocator and measures it.
 * Main entry point: `replay(trace, target, options)`.
 *
 * Browser-safe: timing uses `performance.now()`. Only the op loop is timed;
 * the two id tables it uses are made before the clock starts.
 *
 * ```
 *  table       indexed by   holds
 *  ─────────   ──────────   ───────────────────────────────────────────
 *  ptrOf[id]   object id    pointer the target returned (0 when not live)
 *  sizeOf[id]  object id    bytes requested for it (0 when not live)
 * ```
 * Figures, updated in O(1) per op:
 * - `liveBytes` = Σ sizeOf over live ids; `peakLiveBytes` its maximum.
 * - `lo` = lowest pointer ever returned; `hi` = max over allocations of
 *   `ptr + size`; `footprintBytes = hi − lo`.
 *
 * Size 0 is passed through unchanged (heapfit returns a unique minimum block
 * for `malloc(0)`). A 0 return for a size above 0 is a failed allocation: the
 * replay stops there and says so in `failedAt`. A 0 return for size 0 is C's
 * permitted null result (and `realloc(p, 0)` returning 0 means p was freed):
 * the object's pointer is then 0, and a later `free(0)` or `realloc(0, n)`
 * does what C says.
 */
import {
	OP_CALLOC,
	OP_FREE,
	OP_LETTERS,
	OP_MALLOC,
	OP_MEMALIGN,
	OP_REALLOC,
	type OpLetter,
	type Trace,
	lineOf,
} from './format.js';

/**
 * An allocator a trace can be replayed through. heapfit's `Heap` is one; a
 * peer can be wrapped in an object with these methods. Pointers are numbers
 * and 0 means failure, as in C.
 */
export interface ReplayTarget {
	/** Allocates `size` bytes; 0 when it cannot. */
	malloc(size: number): number;
	/** Frees `ptr` (never called with a pointer the target did not return, except 0). */
	free(ptr: number): void;
	/** Resizes `ptr` to `size` bytes; 0 when it cannot (then `ptr` is still live). */
	realloc(ptr: number, size: number): number;
	/** Allocates `count × size` zeroed bytes. When absent, `c` ops use `malloc`. */
	calloc?(count: number, size: number): number;
	/** Allocates `size` bytes aligned to `align`. Required iff the trace has `m` ops. */
	alignedAlloc?(align: number, size: number): number;
}

/** Options for `replay`. */
export interface ReplayOptions {
	/**
	 * Called every 65 536 ops, and once at the end, with the ops done and the
	 * ops in the trace. Its time is inside the timed loop, so keep it cheap.
	 * @defaultValue none
	 */
	onProgress?: (done: number, total: number) => void;
	/**
	 * Ops between two `onProgress` calls.
	 * @defaultValue 65536
	 */
	progressEvery?: number;
	/**
	 * Replay only the first `stopAt` ops (e.g. `report.peakOp + 1` of an
	 * earlier replay, to look at the heap at its peak).
	 * @defaultValue every op
	 */
	stopAt?: number;
}

/** The allocation a replay stopped at. */
export interface ReplayFailure {
	/** 0-based index of the op in the trace. */
	op: number;
	/** 1-based line of the op in the trace text. */
	line: number;
	/** The op's letter: `a`, `c`, `m` or `r`. */
	kind: OpLetter;
	/** Bytes requested. */
	size: number;
	/** Object id. */
	id: number;
	/** Alignment asked for (`m` ops only). */
	align?: number;
}

/** What a replay measured. Byte figures are of requested sizes and returned pointers. */
export interface ReplayReport {
	/** Ops completed (all of them unless `failedAt` is set). */
	ops: number;
	/** Ops in the trace. */
	totalOps: number;
	/** Largest sum of live requested sizes (over the ops completed). */
	peakLiveBytes: number;
	/** 0-based index of the op after which live bytes first reached their peak (−1 if none). */
	peakOp: number;
	/** 0-based index of the op after which the footprint reached its final (peak) value (−1 if none). */
	footprintOp: number;
	/** Max over allocations of `ptr + size`, minus the lowest pointer ever returned. */
	footprintBytes: number;
	/** `footprintBytes / peakLiveBytes − 1` (0 when peakLiveBytes is 0). */
	fragmentation: number;
	/** Wall time of the op loop, in milliseconds. */
	elapsedMs: number;
	/** `elapsedMs` per completed op, in nanoseconds. */
	nsPerOp: number;
	/** Objects live when the replay ended. */
	liveObjects: number;
	/** Requested bytes live when the replay ended. */
	liveBytes: number;
	/** The allocation that returned 0, when one did; the replay stopped there. */
	failedAt?: ReplayFailure;
}

/** An exception thrown by the target during a replay, with where it happened. */
export class ReplayError extends Error {
	override name = 'ReplayError';
	constructor(
		/** 0-based op index. */
		readonly op: number,
		/** 1-based line of the op in the trace text. */
		readonly line: number,
		/** The op's letter. */
		readonly kind: OpLetter,
		/** The error the target threw. */
		override readonly cause: unknown,
	) {
		super(`replay: op ${op} ('${kind}' at line ${line}) threw: ${cause instanceof Error ? cause.message : String(cause)}`);
	}
}


/** Replays every op of `trace` through `target` and reports what it measured. */
export function replay(trace: Trace, target: ReplayTarget, options: ReplayOptions = {}): ReplayReport {
	const n = Math.min(trace.ops, options.stopAt ?? trace.ops);
	const every = options.progressEvery ?? 65536;
	if (!Number.isSafeInteger(every) || every < 1) throw new RangeError('replay: progressEvery must be a positive integer');
	const kind = trace.kind;
	const ids = trace.id;
	const sizes = trace.size;
	const aligns = trace.align ?? new Uint32Array(0);
	if (trace.counts.memalign > 0 && typeof target.alignedAlloc !== 'function') {
		throw new TypeError('replay: the trace has aligned allocations (m) but the target has no alignedAlloc');
	}
	const hasCalloc = typeof target.calloc === 'function';
	const onProgress = options.onProgress;
	const ptrOf = new Float64Array(trace.maxId + 1);
	const sizeOf = new Float64Array(trace.maxId + 1);
	let liveBytes = 0;
	let liveObjects = 0;
	let peak = 0;
	let peakOp = -1;
	let footprintOp = -1;
	let untilProgress = every;
	let lo = Number.POSITIVE_INFINITY;
	let hi = 0;
	let failed = -1;
	let i = 0;
	const t0 = performance.now();
	try {
		for (; i < n; i++) {
			if (--untilProgress === 0) {
				untilProgress = every;
				if (onProgress !== undefined) onProgress(i, n);
			}
			const k = kind[i];
			const id = ids[i];
			if (k === OP_FREE) {
				target.free(ptrOf[id]);
				liveBytes -= sizeOf[id];
				liveObjects--;
				ptrOf[id] = 0;
				sizeOf[id] = 0;
				continue;
			}
			const size = sizes[i];
			let p: number;
			if (k === OP_MALLOC) p = target.malloc(size);
			else if (k === OP_REALLOC) p = target.realloc(ptrOf[id], size);
			else if (k === OP_CALLOC) p = hasCalloc ? (target.calloc as (c: number, s: number) => number)(1, size) : target.malloc(size);
			else p = (target.alignedAlloc as (a: number, s: number) => number)(aligns[i], size);
			if (p === 0 && size !== 0) {
				failed = i;
				break;
			}
			if (k === OP_REALLOC) liveBytes -= sizeOf[id];
			else liveObjects++;
			ptrOf[id] = p;
			sizeOf[id] = size;
			liveBytes += size;
			if (liveBytes > peak) {
				peak = liveBytes;
				peakOp = i;
			}
			if (p !== 0) {
				if (p < lo) {
					lo = p;
					footprintOp = i;
				}
				if (p + size > hi) {
					hi = p + size;
					footprintOp = i;
				}
			}
		}
	} catch (e) {
		throw new ReplayError(i, lineOf(trace, i), OP_LETTERS[kind[i]], e);
	}
	const elapsedMs = performance.now() - t0;
	if (onProgress !== undefined) onProgress(i, n);
	const footprintBytes = lo === Number.POSITIVE_INFINITY ? 0 : hi - lo;
	const report: ReplayReport = {
		ops: i,
		totalOps: n,
		peakLiveBytes: peak,
		peakOp,
		footprintOp,
		footprintBytes,
		fragmentation: peak === 0 ? 0 : footprintBytes / peak - 1,
		elapsedMs,
		nsPerOp: i === 0 ? 0 : (elapsedMs * 1e6) / i,
		liveObjects,
		liveBytes,
	};
	if (failed >= 0) report.failedAt = _failure(trace, failed);
	return report;
}

/** Describes op `op` of `trace` as a ReplayFailure. */
function _failure(trace: Trace, op: number): ReplayFailure {
	const k = trace.kind[op];
	const failure: ReplayFailure = {
		op,
		line: lineOf(trace, op),
		kind: OP_LETTERS[k],
		size: trace.size[op],
		id: trace.id[op],
	};
	if (k === OP_MEMALIGN && trace.align !== null) failure.align = trace.align[op];
	return failure;
}
