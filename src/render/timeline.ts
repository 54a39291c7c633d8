/**
 * timeline.ts: the SVG timeline of a replay. Main entry point:
 * `renderTimelineSvg(series, options)`. Uses no Node API.
 *
 * ```
 *  bytes
 *   ▲  ── footprint (high-water)          ┌────────────────────────
 *   │                          ┌──────────┘
 *   │  ── live bytes       ╱╲╱╲╱ ╲    ╱╲
 *   │  ── free bytes ╲╲╲╲╲╲╲╲╲╲╲╲╲╲╲
 *   │  ▒▒ free − largest free = external fragmentation
 *   └──────────────────────────────────────────────────► ops
 * ```
 * The series are sampled during a replay (`sampleReplay` in sample.ts, or
 * by hand). Free bytes and the largest free block come from `heap.stats()`,
 * so they include the untouched end of the region; the shaded band between
 * them is exactly what `HeapStats.externalFragmentation` measures: free
 * memory that no single request can get.
 */
import { PALETTE, type Panel, esc, formatBytes, formatCount, formatInt, niceTicks, num, svgDocument } from './svgkit.js';

/** Figures sampled during a replay: the arrays are parallel, one element per sample, in op order. */
export interface ReplaySeries {
	/** Ops done when the sample was taken. */
	op: number[];
	/** Σ requested bytes of the live objects (what the program asked for). */
	liveBytes: number[];
	/** `HeapStats.usedBytes`: usable bytes of allocated blocks (≥ live bytes). */
	usedBytes: number[];
	/** Highest `ptr + size` ever allocated minus the lowest ptr ever returned, so far (as `ReplayReport.footprintBytes`). */
	footprintBytes: number[];
	/** `HeapStats.freeBytes`: all free bytes, the untouched end of the region included. */
	freeBytes: number[];
	/** `HeapStats.largestFreeBlock`. */
	largestFreeBytes: number[];
	/** Bytes of the heap's region. */
	regionBytes: number;
	/** Ops in the replay. */
	totalOps: number;
	/** 0-based op after which live bytes first peaked (−1 if none), as `ReplayReport.peakOp`. */
	peakOp: number;
}

/** The per-sample columns of a ReplaySeries, `op` first. */
export const SERIES_COLUMNS = ['op', 'liveBytes', 'usedBytes', 'footprintBytes', 'freeBytes', 'largestFreeBytes'] as const;
/** One sample: a value for each column. */
export type Sample = Record<(typeof SERIES_COLUMNS)[number], number>;

/** Options for `renderTimelineSvg`. */
export interface TimelineOptions {
	/**
	 * Width of the drawing in px.
	 * @defaultValue 1000
	 */
	width?: number;
	/**
	 * Height of the plot area in px (the drawing adds its title, axes and legend).
	 * @defaultValue 220
	 */
	plotHeight?: number;
	/**
	 * Heading and the document's `<title>`.
	 * @defaultValue 'heap over the replay'
	 */
	title?: string;
	/**
	 * Draw only the ops from this one on (a zoom on the end of a trace);
	 * the sample just before it starts the curves at the left edge.
	 * @defaultValue 0
	 */
	fromOp?: number;
	/**
	 * Op count to mark with a vertical line, or null for none.
	 * @defaultValue `series.peakOp + 1` (the peak of live bytes), when there is one
	 */
	marker?: number | null;
	/**
	 * Label of the marker.
	 * @defaultValue 'peak live bytes' for the default marker, else 'op N'
	 */
	markerLabel?: string;
	/**
	 * Prefix of the ids in the document.
	 * @defaultValue 'hf'
	 */
	idPrefix?: string;
	/**
	 * Start with an XML declaration (leave it out for SVG put inline in HTML).
	 * @defaultValue true
	 */
	declaration?: boolean;
}

/** The curves, in drawing order: key, colour, width, dash, legend text. */
type CurveKey = 'liveBytes' | 'usedBytes' | 'footprintBytes' | 'freeBytes' | 'largestFreeBytes';
const CURVES: [CurveKey, string, number, string, string][] = [
	['freeBytes', PALETTE.freeBytes, 1.5, '', 'free bytes'],
	['largestFreeBytes', PALETTE.largestFree, 1.5, '', 'largest free block'],
	['footprintBytes', PALETTE.footprint, 2, '', 'footprint (high-water)'],
	['usedBytes', PALETTE.used, 1.5, '5 3', 'heap used (usable bytes of live blocks)'],
	['liveBytes', PALETTE.live, 2, '', 'live bytes (requested)'],
];

const PAD = 12;
const CHAR_W = 6;

/** The samples of `s` from `from` on, led by the last one before it. */
function clip(s: ReplaySeries, from: number): ReplaySeries {
	let i = 0;
	while (i + 1 < s.op.length && s.op[i + 1] <= from) i++;
	const out = { ...s };
	for (const k of SERIES_COLUMNS) out[k] = s[k].slice(i);
	return out;
}

/** The timeline of `series` as a panel (see `renderTimelineSvg`). */
export function timelinePanel(all: ReplaySeries, o: TimelineOptions = {}): Panel {
	const width = o.width ?? 1000;
	const plotH = o.plotHeight ?? 220;
	const title = o.title ?? 'heap over the replay';
	const xMin = Math.max(0, o.fromOp ?? 0);
	const series = xMin > 0 ? clip(all, xMin) : all;
	const n = series.op.length;
	const xMax = Math.max(xMin + 1, series.totalOps, n > 0 ? series.op[n - 1] : 0);
	// Each curve's largest value (0 for none), for the y scale and the tooltips.
	const peaks = {} as Record<CurveKey, number>;
	let yTop = 0;
	for (const [key] of CURVES) {
		let peak = 0;
		for (const v of series[key]) if (v > peak) peak = v;
		peaks[key] = peak;
		if (peak > yTop) yTop = peak;
	}
	const yTicks = niceTicks(Math.max(yTop, 1), 5, true, true);
	const yMax = Math.max(yTicks[yTicks.length - 1], 1);
	const labelW = Math.max(...yTicks.map((t) => formatBytes(t).length)) * CHAR_W + 10;
	const x0 = PAD + labelW;
	const y0 = PAD + 30;
	const plotW = Math.max(40, width - x0 - PAD - 8);
	const X = (op: number) => x0 + ((Math.max(op, xMin) - xMin) / (xMax - xMin)) * plotW;
	const Y = (b: number) => y0 + plotH - (b / yMax) * plotH;
	const body: string[] = [`<text x="${PAD}" y="${PAD + 14}" font-size="15" font-weight="600">${esc(title)}</text>`];

	// Grid and axes.
	for (const t of yTicks) {
		body.push(`<line x1="${num(x0)}" y1="${num(Y(t))}" x2="${num(x0 + plotW)}" y2="${num(Y(t))}" stroke="${PALETTE.grid}"/>`);
		body.push(`<text x="${num(x0 - 6)}" y="${num(Y(t) + 4)}" text-anchor="end" font-size="10" fill="${PALETTE.muted}">${esc(formatBytes(t))}</text>`);
	}
	const xStep = Math.max(1, niceTicks(xMax - xMin, Math.max(2, Math.floor(plotW / 90)))[1] ?? 1);
	for (let t = Math.ceil(xMin / xStep) * xStep; t <= xMax; t += xStep) {
		body.push(`<line x1="${num(X(t))}" y1="${num(y0 + plotH)}" x2="${num(X(t))}" y2="${num(y0 + plotH + 4)}" stroke="${PALETTE.muted}"/>`);
		body.push(`<text x="${num(X(t))}" y="${num(y0 + plotH + 16)}" text-anchor="middle" font-size="10" fill="${PALETTE.muted}">${formatCount(t)}</text>`);
	}
	body.push(`<rect x="${num(x0)}" y="${num(y0)}" width="${num(plotW)}" height="${num(plotH)}" fill="none" stroke="${PALETTE.rowOutline}"/>`);
	body.push(`<text x="${num(x0 + plotW)}" y="${num(y0 + plotH + 30)}" text-anchor="end" font-size="11" fill="${PALETTE.muted}">ops</text>`);

	if (n === 0) {
		body.push(`<text x="${num(x0 + plotW / 2)}" y="${num(y0 + plotH / 2)}" text-anchor="middle" fill="${PALETTE.muted}">no samples</text>`);
	} else {
		// External fragmentation: the band between free bytes and the largest free block.
		const top = series.op.map((op, i) => `${num(X(op))},${num(Y(series.freeBytes[i]))}`);
		const bottom = series.op.map((op, i) => `${num(X(op))},${num(Y(series.largestFreeBytes[i]))}`).reverse();
		body.push(
			`<polygon class="external-fragmentation" points="${top.concat(bottom).join(' ')}" fill="${PALETTE.externalFragmentation}" fill-opacity="0.35">` +
				'<title>external fragmentation: free bytes outside the largest free block</title></polygon>',
		);
		for (const [key, colour, w, dash, label] of CURVES) {
			const values = series[key];
			const pts = series.op.map((op, i) => `${num(X(op))},${num(Y(values[i]))}`).join(' ');
			const dashAttr = dash === '' ? '' : ` stroke-dasharray="${dash}"`;
			body.push(
				`<polyline class="curve" data-series="${key}" points="${pts}" fill="none" stroke="${colour}" stroke-width="${w}"${dashAttr} stroke-linejoin="round">` +
					`<title>${esc(`${label}: at most ${formatBytes(peaks[key])}`)}</title></polyline>`,
			);
		}
	}

	const marker = o.marker === undefined ? (series.peakOp >= 0 ? series.peakOp + 1 : null) : o.marker;
	if (marker !== null) {
		const label = o.markerLabel ?? (o.marker === undefined ? `peak live bytes, op ${formatInt(marker)}` : `op ${formatInt(marker)}`);
		const x = X(Math.min(Math.max(marker, xMin), xMax));
		const anchor = x > x0 + plotW - label.length * CHAR_W ? 'end' : 'start';
		body.push(
			`<g class="marker" data-op="${marker}"><line x1="${num(x)}" y1="${num(y0)}" x2="${num(x)}" y2="${num(y0 + plotH)}" stroke="${PALETTE.marker}" stroke-dasharray="4 3"/>` +
				`<text x="${num(anchor === 'end' ? x - 4 : x + 4)}" y="${num(y0 - 4)}" text-anchor="${anchor}" font-size="11" fill="${PALETTE.marker}">${esc(label)}</text></g>`,
		);
	}

	// Legend.
	let lx = PAD;
	let ly = y0 + plotH + 38;
	const items: [string, string][] = [...CURVES.map(([, c, , , l]) => [c, l] as [string, string])].reverse();
	items.push([PALETTE.externalFragmentation, 'free − largest free = external fragmentation']);
	for (const [i, [colour, label]] of items.entries()) {
		const w = 30 + label.length * CHAR_W + 14;
		if (lx + w > width - PAD && lx > PAD) {
			lx = PAD;
			ly += 18;
		}
		const band = i === items.length - 1;
		body.push(
			band
				? `<rect x="${num(lx)}" y="${num(ly - 9)}" width="22" height="10" fill="${colour}" fill-opacity="0.35"/>`
				: `<line x1="${num(lx)}" y1="${num(ly - 4)}" x2="${num(lx + 22)}" y2="${num(ly - 4)}" stroke="${colour}" stroke-width="2.5"/>`,
		);
		body.push(`<text x="${num(lx + 28)}" y="${num(ly)}" font-size="11">${esc(label)}</text>`);
		lx += w;
	}
	const height = ly + PAD;
	const last = n - 1;
	const desc =
		n === 0
			? 'Timeline: no samples.'
			: `Timeline of ${formatInt(series.totalOps)} ops, ${n} samples, region ${formatBytes(series.regionBytes)}; ` +
				`at the end: live ${formatBytes(series.liveBytes[last])}, footprint ${formatBytes(series.footprintBytes[last])}, ` +
				`free ${formatBytes(series.freeBytes[last])}, largest free ${formatBytes(series.largestFreeBytes[last])}.`;
	return { width, height, title, desc, defs: '', body: body.join('\n') };
}

/**
 * A standalone SVG document plotting, against ops, the live (requested)
 * bytes, the heap's used bytes, the footprint (high-water), the free bytes
 * and the largest free block of `series`, with the band between the last two
 * (external fragmentation) shaded and a marker at the peak.
 */
export function renderTimelineSvg(series: ReplaySeries, options: TimelineOptions = {}): string {
	const p = timelinePanel(series, options);
	return svgDocument([p], options.idPrefix ?? 'hf', p.title, 'img', '', options.declaration ?? true);
}
