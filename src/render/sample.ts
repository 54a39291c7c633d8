/**
 * sample.ts: replays a trace through a heap and samples it for a timeline.
 * Main entry points: `sampleReplay(trace, heap, options)` and
 * `replayToSvg(trace, size, options)`, what `heapfit replay --svg` writes.
 * Uses no Node API.
 *
 * ```
 *  replay(trace, target, { progressEvery: ⌈ops / samples⌉, onProgress })
 *            │                                  │
 *            ▼                                  ▼ every ⌈ops / samples⌉ ops
 *  target = heap + bookkeeping            sample: live, footprint (bookkeeping),
 *  (ptr → requested size, live bytes,             used, free, largest free (heap.stats())
 *   lowest ptr, highest ptr + size)
 * ```
 * The bookkeeping target costs a Map operation per op, so the report's
 * timings are not a benchmark; replay the trace through the heap itself for
 * those.
 */
import { Heap } from '../heap.js';
import type { Trace } from '../trace/format.js';
import { type ReplayReport, type ReplayTarget, replay } from '../trace/replay.js';
import { type ReplaySvgOptions, renderReplaySvg } from './svg.js';
import { formatInt } from './svgkit.js';
import { type ReplaySeries, SERIES_COLUMNS, type Sample } from './timeline.js';

/** Options for `sampleReplay`. */
export interface SampleOptions {
	/**
	 * About how many samples to take (one every ⌈ops / samples⌉ ops, plus
	 * one before the first op and one after the last).
	 * @defaultValue 400
	 */
	samples?: number;
	/**
	 * Replay only the first `stopAt` ops (as `ReplayOptions.stopAt`).
	 * @defaultValue every op
	 */
	stopAt?: number;
	/**
	 * Called at every sample with the ops done and the ops to do (a progress
	 * bar can hang off it).
	 * @defaultValue none
	 */
	onProgress?: (done: number, total: number) => void;
}

/** What `sampleReplay` returns. */
export interface SampledReplay {
	/** The replay's report (timings include the bookkeeping). */
	report: ReplayReport;
	/** The sampled figures. */
	series: ReplaySeries;
	/** Requested bytes of every block live when the replay stopped, by ptr (for `renderSvg`'s `requested`). */
	requested: Map<number, number>;
}

/** A series with no samples for a heap of `regionBytes` and a replay of `totalOps` ops. */
export function emptySeries(regionBytes: number, totalOps: number): ReplaySeries {
	const series = { regionBytes, totalOps, peakOp: -1 } as ReplaySeries;
	for (const k of SERIES_COLUMNS) series[k] = [];
	return series;
}

/**
 * Adds a sample of `heap` after `op` ops, with the live (requested) bytes
 * and footprint the caller tracked, keeping the samples in op order (a
 * sample at an op already sampled replaces it).
 */
export function addSample(series: ReplaySeries, op: number, heap: Heap, liveBytes: number, footprintBytes: number): void {
	const s = heap.stats();
	insertSample(series, { op, liveBytes, usedBytes: s.usedBytes, footprintBytes, freeBytes: s.freeBytes, largestFreeBytes: s.largestFreeBlock });
}

/** Puts `sample` into `series` in op order (replacing one at the same op). */
function insertSample(series: ReplaySeries, sample: Sample): void {
	let i = series.op.length;
	while (i > 0 && series.op[i - 1] > sample.op) i--;
	const replace = i > 0 && series.op[i - 1] === sample.op ? 1 : 0;
	if (replace) i--;
	for (const k of SERIES_COLUMNS) series[k].splice(i, replace, sample[k]);
}

/** `heap` as a replay target that tracks requested sizes, live bytes and the footprint. */
function trackingTarget(heap: Heap) {
	const requested = new Map<number, number>();
	const t = { requested, live: 0, lo: Number.POSITIVE_INFINITY, hi: 0 };
	const got = (p: number, size: number): number => {
		if (p !== 0) {
			requested.set(p, size);
			t.live += size;
			if (p < t.lo) t.lo = p;
			if (p + size > t.hi) t.hi = p + size;
		}
		return p;
	};
	const drop = (p: number): void => {
		const size = requested.get(p);
		if (size !== undefined) {
			t.live -= size;
			requested.delete(p);
		}
	};
	const target: ReplayTarget = {
		malloc: (size) => got(heap.malloc(size), size),
		calloc: (count, size) => got(heap.calloc(count, size), count * size),
		alignedAlloc: (align, size) => got(heap.alignedAlloc(align, size), size),
		free: (p) => {
			heap.free(p);
			drop(p);
		},
		realloc: (p, size) => {
			const q = heap.realloc(p, size);
			if (q !== 0) {
				drop(p);
				got(q, size);
			}
			return q;
		},
	};
	return { t, target, footprint: () => (t.lo === Number.POSITIVE_INFINITY ? 0 : t.hi - t.lo) };
}

/**
 * Replays `trace` through `heap` (usually a fresh one) with `replay()`,
 * sampling live bytes, footprint, used, free and largest free bytes about
 * `samples` times. Returns the report, the series (its `peakOp` is the
 * report's) and the requested size of every block still live.
 */
export function sampleReplay(trace: Trace, heap: Heap, options: SampleOptions = {}): SampledReplay {
	const samples = options.samples ?? 400;
	if (!Number.isSafeInteger(samples) || samples < 1) throw new RangeError('sampleReplay: samples must be a positive integer');
	const total = Math.min(trace.ops, options.stopAt ?? trace.ops);
	const series = emptySeries(heap.regionEnd - heap.regionStart, total);
	const { t, target, footprint } = trackingTarget(heap);
	addSample(series, 0, heap, 0, 0);
	const report = replay(trace, target, {
		stopAt: options.stopAt,
		progressEvery: Math.max(1, Math.ceil(total / samples)),
		onProgress: (done, n) => {
			addSample(series, done, heap, t.live, footprint());
			options.onProgress?.(done, n);
		},
	});
	series.peakOp = report.peakOp;
	return { report, series, requested: t.requested };
}

/** Options for `replayToSvg`. */
export interface ReplayToSvgOptions extends ReplaySvgOptions {
	/**
	 * Samples on the timeline.
	 * @defaultValue 400
	 */
	samples?: number;
	/**
	 * Which heap the map shows: when the footprint (highest byte handed out)
	 * reached its peak, at the peak of live bytes, or at the end.
	 * @defaultValue 'footprint'
	 */
	at?: 'footprint' | 'peak' | 'end';
	/**
	 * Called with the ops done and the ops to do over both passes. Until the
	 * first pass ends the second's length is not known and the total is
	 * `2 × ops`; from then on it is exact. The fraction never goes down, and
	 * the last call has `done === total`.
	 * @defaultValue none
	 */
	onProgress?: (done: number, total: number) => void;
}

/**
 * Replays `trace` through a fresh `new Heap({ size })`, sampling it, then
 * (for `at: 'peak'`) through another up to the op where live bytes peaked,
 * and returns one SVG document: the heap map at that moment (with requested
 * sizes, so slack shows) over the timeline with the moment marked. The
 * exact peak is added to the timeline's samples. A replay that runs out of
 * memory is drawn up to the op that failed, and the title says so. Throws
 * what `new Heap` or `replay` throws.
 */
export function replayToSvg(trace: Trace, size: number, options: ReplayToSvgOptions = {}): string {
	const { samples, at = 'footprint', onProgress, ...svgOptions } = options;
	const twoPasses = at !== 'end';
	const guess = twoPasses ? 2 * trace.ops : trace.ops;
	let heap = new Heap({ size });
	const first = sampleReplay(trace, heap, { samples, onProgress: onProgress && ((done) => onProgress(done, guess)) });
	const { series, report } = first;
	let requested = first.requested;
	let marker: { marker: number; markerLabel: string };
	let mapTitle: string;
	const stopOp = at === 'peak' ? report.peakOp : report.footprintOp;
	const second = twoPasses && stopOp >= 0 && report.failedAt === undefined;
	const total = report.ops + (second ? stopOp + 1 : 0);
	if (second) {
		const what = at === 'peak' ? 'peak live bytes' : 'peak footprint';
		marker = { marker: stopOp + 1, markerLabel: `${what}, op ${formatInt(stopOp + 1)}` };
		mapTitle = `heap map, after op ${formatInt(stopOp + 1)} (${what})`;
		heap = new Heap({ size });
		const again = sampleReplay(trace, heap, {
			samples: 1,
			stopAt: stopOp + 1,
			onProgress: onProgress && ((done) => onProgress(report.ops + done, total)),
		});
		requested = again.requested;
		// The second pass's last sample, taken after its final op, is its report's figures on this heap.
		addSample(series, again.report.ops, heap, again.report.liveBytes, again.report.footprintBytes);
	} else {
		marker = { marker: report.ops, markerLabel: report.failedAt ? `out of memory at op ${report.ops}` : 'end' };
		mapTitle = `heap map after op ${report.ops}`;
	}
	onProgress?.(total, total);
	const title = report.failedAt ? `heapfit replay: out of memory at op ${report.failedAt.op}` : 'heapfit replay';
	return renderReplaySvg(heap, series, requested, {
		title,
		...svgOptions,
		map: { title: mapTitle, ...svgOptions.map },
		timeline: { ...marker, ...svgOptions.timeline },
	});
}
