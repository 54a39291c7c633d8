/**
 * svg.ts: the SVG heap map. Main entry points: `renderSvg(heap, options)`,
 * and `renderReplaySvg(heapAtPeak, series, requested)`, which stacks that map
 * over the timeline of a replay (timeline.ts). Uses no Node API.
 *
 * ```
 *   heapfit heap map                                   title
 *   region 8 KiB · used 1.2 KiB in 12 blocks · …       summary
 *           +0      +256 B    +512 B    +768 B          axis: offset inside a row
 *  0x0d2c  ▕hdr│payload…│slack│▒free▒▒▒│hdr│payload…▏  row 0 ┐ every block in address
 *  0x102c  ▕…payload│▒free▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒▏  row 1 ┘ order, wrapped into rows
 *   ■ header ■ payload ■ slack ■ trailer □ free ▨ gap                legend
 * ```
 * Geometry: the blocks area `[blocksStart, sentinel)` is laid out as a line
 * of `rowBytes`-byte rows, `pxPerByte = mapWidth / rowBytes`. Byte offset `o`
 * from blocksStart sits in row `⌊o / rowBytes⌋` at
 * `x = mapX + (o mod rowBytes) · pxPerByte`. A part that crosses a row end is
 * drawn as one rect per row, so the widths of a block's rects add up to
 * `size · pxPerByte` (to 3 decimals per rect) and those of all blocks to
 * `area · pxPerByte`.
 *
 * Each block is one `<g class="block">` carrying `data-block`, `data-ptr`,
 * `data-size` and `data-state` (`allocated`, `free`, `gap`, `cached`, `internal`) and a `<title>`
 * (a tooltip when hovered); the map's `<g class="blocks">` carries the
 * geometry (`data-blocks-start`, `data-area`, `data-row-bytes`,
 * `data-px-per-byte`). The part kinds and what they mean are in blocks.ts.
 */
import type { Heap } from '../heap.js';
import { MIN_BLOCK } from '../layout.js';
import { type BlockPart, type BlockView, type PartKind, blockTotals, blockViews } from './blocks.js';
import { type ReplaySeries, type TimelineOptions, timelinePanel } from './timeline.js';
import { PALETTE, type Panel, esc, formatBytes, formatInt, hex, niceTicks, num, percent, svgDocument } from './svgkit.js';
import { checkPositive } from '../errors.js';
import { cellStates } from './cells.js';
import { type CellKind, cellKind } from './text.js';

/** Options for `renderSvg`. */
export interface SvgMapOptions {
	/**
	 * Width of the whole drawing in px (the map is this less the row labels
	 * and margins).
	 * @defaultValue 1000
	 */
	width?: number;
	/**
	 * Rows the blocks area is wrapped into (ignored when `rowBytes` is given).
	 * @defaultValue ⌈area / 1 KiB⌉, at least 1 and at most 8
	 */
	rows?: number;
	/**
	 * Bytes per row, a multiple of 8; overrides `rows`.
	 * @defaultValue ⌈area / rows⌉ rounded up to 8
	 */
	rowBytes?: number;
	/**
	 * Height of a row in px.
	 * @defaultValue 28
	 */
	rowHeight?: number;
	/**
	 * Bytes each live block's caller asked for, by ptr. With it the map
	 * draws the slack beyond the request (internal fragmentation); without
	 * it a block's whole usable size is drawn as payload.
	 * @defaultValue none
	 */
	requested?: ReadonlyMap<number, number>;
	/**
	 * The heap's block views, when the caller already has them: exactly
	 * `blockViews(heap, requested)` of the heap as it is now. Drawn in place
	 * of walking the heap again (`requested` is then not read).
	 * @defaultValue `blockViews(heap, requested)`
	 */
	views?: readonly BlockView[];
	/**
	 * Heading and the document's `<title>`.
	 * @defaultValue 'heapfit heap map'
	 */
	title?: string;
	/**
	 * Draw the legend under the map.
	 * @defaultValue true
	 */
	legend?: boolean;
	/**
	 * Make every block a keyboard-focusable button (`role="button"`,
	 * `tabindex="-1"`, named by its `<title>`), for a page that handles the
	 * events; the page decides which block gets `tabindex="0"`.
	 * @defaultValue false
	 */
	interactive?: boolean;
	/**
	 * Prefix of the ids in the document (pattern, title), to keep them
	 * unique when several maps share a page.
	 * @defaultValue 'hf'
	 */
	idPrefix?: string;
	/**
	 * Start with an XML declaration (leave it out for SVG put inline in HTML).
	 * @defaultValue true
	 */
	declaration?: boolean;
}

/** Legend text of each part kind, in legend order. */
const LEGEND: [PartKind, string][] = [
	['header', 'header (4 B)'],
	['payload', 'payload'],
	['slack', 'slack (internal fragmentation)'],
	['trailer', 'align trailer (4 B)'],
	['free', 'free'],
	['gap', 'free, before an aligned block (padding)'],
	['cached', 'freed, in the small-block cache'],
	['internal', 'heapfit’s own (bitmap, thread table)'],
];

const PAD = 12;
const TITLE_H = 22;
const SUMMARY_H = 16;
const AXIS_H = 20;
const ROW_GAP = 6;
const LEGEND_ROW_H = 18;
/** Rough width of one character of 11 px text, for laying out labels. */
const CHAR_W = 5.7;
/**
 * A part narrower than this (px) is drawn as part of its neighbour in the
 * same block: it would not show, and on a map of thousands of blocks the
 * 4-byte headers alone would double the file. The block's rects still add
 * up to its size, and its tooltip still lists every part.
 */
const MIN_PART_PX = 0.05;

/** Where the map is drawn and how bytes map to px. */
interface Geometry {
	start: number;
	area: number;
	rowBytes: number;
	rows: number;
	mapX: number;
	mapY: number;
	mapWidth: number;
	rowHeight: number;
	pxPerByte: number;
}

/** Lays out the map for `heap` under `top` px of heading. */
function geometry(heap: Heap, o: SvgMapOptions, width: number, top: number): Geometry {
	const start = heap._blocksStart;
	const area = Math.max(0, heap._sentinel - start);
	if (o.rows !== undefined) checkPositive('renderSvg', 'rows', o.rows, true);
	if (o.rowBytes !== undefined) checkPositive('renderSvg', 'rowBytes', o.rowBytes, true);
	const rowsWanted = o.rows ?? Math.min(8, Math.max(1, Math.ceil(area / 1024)));
	const rowBytes = o.rowBytes ?? Math.max(8, Math.ceil(area / rowsWanted / 8) * 8);
	const rows = Math.max(1, Math.ceil(area / rowBytes));
	const labelW = hex(start + (rows - 1) * rowBytes).length * CHAR_W + 10;
	const mapX = PAD + labelW;
	const mapWidth = Math.max(40, width - mapX - PAD);
	const rowHeight = o.rowHeight ?? 28;
	return { start, area, rowBytes, rows, mapX, mapY: top + AXIS_H, mapWidth, rowHeight, pxPerByte: mapWidth / rowBytes };
}

/** y of the top of row `r`. */
function rowY(g: Geometry, r: number): number {
	return g.mapY + r * (g.rowHeight + ROW_GAP);
}

/** `[from, to)` (buffer offsets) as one `{ x, y, w }` per row it touches. */
function pieces(g: Geometry, from: number, to: number): { x: number; y: number; w: number }[] {
	const out: { x: number; y: number; w: number }[] = [];
	let o = from - g.start;
	const end = to - g.start;
	while (o < end) {
		const r = Math.floor(o / g.rowBytes);
		const rowEnd = Math.min(end, (r + 1) * g.rowBytes);
		out.push({ x: g.mapX + (o - r * g.rowBytes) * g.pxPerByte, y: rowY(g, r), w: (rowEnd - o) * g.pxPerByte });
		o = rowEnd;
	}
	return out;
}

/** The rects of one part. */
function partRects(g: Geometry, p: BlockPart, idPrefix: string): string {
	const fill = p.kind === 'gap' ? `url(#${idPrefix}-gap)` : PALETTE[p.kind];
	let out = '';
	for (const q of pieces(g, p.start, p.end)) {
		out += `<rect class="part-${p.kind}" x="${num(q.x)}" y="${num(q.y)}" width="${num(q.w)}" height="${num(g.rowHeight)}" fill="${fill}"/>`;
	}
	return out;
}

/** Underlay colour of each text-map cell kind. */
const UNDERLAY: Record<CellKind, string> = {
	used: PALETTE.payload,
	mostlyUsed: PALETTE.payload,
	mostlyFree: PALETTE.free,
	free: PALETTE.free,
	headers: PALETTE.header,
	cached: PALETTE.cached,
	internal: PALETTE.internal,
	unknown: PALETTE.unknown,
};

/**
 * When blocks are narrower than a couple of px, a renderer blends thousands
 * of sub-pixel rects with the background and the map comes out pale. So
 * under the blocks goes an underlay of about one cell per px from
 * `cellStates` (the text map's accounting, over the map's `views`, so the
 * heap is walked once), each cell coloured by what most of its bytes are, in
 * runs of one colour. Returns '' for a map whose smallest possible block is
 * at least 2 px wide.
 */
function underlay(heap: Heap, g: Geometry, views: readonly BlockView[]): string {
	if (g.pxPerByte * MIN_BLOCK >= 2 || g.area === 0) return '';
	const bytesPerPx = Math.ceil(1 / g.pxPerByte);
	const cells = cellStates(heap, Math.max(1, Math.ceil(g.area / bytesPerPx)), views);
	let out = '';
	let i = 0;
	while (i < cells.length) {
		const colour = UNDERLAY[cellKind(cells[i])];
		let j = i + 1;
		while (j < cells.length && UNDERLAY[cellKind(cells[j])] === colour) j++;
		for (const q of pieces(g, cells[i].start, cells[j - 1].end)) {
			out += `<rect x="${num(q.x)}" y="${num(q.y)}" width="${num(q.w)}" height="${num(g.rowHeight)}" fill="${colour}"/>`;
		}
		i = j;
	}
	return `<g class="underlay" aria-hidden="true">${out}</g>`;
}

/** One line describing block `v`, for its tooltip and aria-label. */
export function describeBlock(v: BlockView): string {
	const head = `block ${hex(v.block)}, ${formatInt(v.size)} B`;
	if (v.state === 'free') return `${head}: free (its header, links and footer included)`;
	if (v.state === 'gap') {
		return `${head}: free, in front of an aligned block; it can be the padding alignedAlloc left there (reusable)`;
	}
	if (v.state === 'cached') return `${head}: freed, waiting in the small-block cache for the next malloc of its size class (not merged)`;
	if (v.state === 'internal') return `${head}: heapfit's own block (a moved payload-start bitmap or a thread table)`;
	const parts = [`${head}: allocated`, `ptr ${hex(v.ptr)}`, 'header 4 B'];
	if (v.requested !== null) parts.push(`requested ${formatInt(v.requested)} B`, `slack ${formatInt(v.usable - v.requested)} B`);
	else parts.push(`usable ${formatInt(v.usable)} B`);
	if (v.aligned) parts.push(`aligned to ${formatInt(v.align)}`, 'trailer 4 B');
	return parts.join(', ');
}

/** The parts of `v` to draw: those narrower than MIN_PART_PX merged into a neighbour. */
function drawnParts(g: Geometry, v: BlockView): BlockPart[] {
	if (v.parts.length <= 1) return v.parts;
	const out: BlockPart[] = [];
	let pendingStart = -1;
	for (const p of v.parts) {
		if ((p.end - p.start) * g.pxPerByte >= MIN_PART_PX) {
			out.push({ kind: p.kind, start: pendingStart >= 0 ? pendingStart : p.start, end: p.end });
			pendingStart = -1;
		} else if (out.length > 0) out[out.length - 1].end = p.end;
		else if (pendingStart < 0) pendingStart = p.start;
	}
	if (out.length === 0) return [{ kind: v.parts.find((p) => p.kind === 'payload')?.kind ?? v.parts[0].kind, start: v.block, end: v.block + v.size }];
	return out;
}

/** One block as a `<g>` with its tooltip and rects. */
function blockGroup(g: Geometry, v: BlockView, o: SvgMapOptions, idPrefix: string): string {
	const text = esc(describeBlock(v));
	let attrs = `class="block ${v.state}" data-block="${v.block}" data-ptr="${v.ptr}" data-size="${v.size}" data-state="${v.state}"`;
	if (v.requested !== null) attrs += ` data-requested="${v.requested}"`;
	if (v.aligned) attrs += ` data-align="${v.align}"`;
	// A role="button" gets its accessible name from its <title> child (SVG-AAM).
	if (o.interactive) attrs += ' tabindex="-1" role="button"';
	let rects = '';
	for (const p of drawnParts(g, v)) rects += partRects(g, p, idPrefix);
	return `<g ${attrs}><title>${text}</title>${rects}</g>`;
}

/** The hatch pattern of `gap` parts. */
function gapPattern(idPrefix: string): string {
	return (
		`<pattern id="${idPrefix}-gap" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">` +
		`<rect width="6" height="6" fill="${PALETTE.gap}"/><rect width="2" height="6" fill="${PALETTE.gapHatch}"/></pattern>`
	);
}

/** The offset axis above the rows and each row's start address and outline. */
function axisAndRows(g: Geometry): string {
	const out: string[] = [];
	const y = g.mapY - 6;
	for (const t of niceTicks(g.rowBytes, Math.max(2, Math.floor(g.mapWidth / 110)), true)) {
		const x = g.mapX + t * g.pxPerByte;
		out.push(`<line x1="${num(x)}" y1="${num(y)}" x2="${num(x)}" y2="${num(y + 4)}" stroke="${PALETTE.muted}"/>`);
		const anchor = t === 0 ? 'start' : x > g.mapX + g.mapWidth - 30 ? 'end' : 'middle';
		out.push(`<text x="${num(x)}" y="${num(y - 3)}" text-anchor="${anchor}" font-size="10" fill="${PALETTE.muted}">+${esc(formatBytes(t))}</text>`);
	}
	for (let r = 0; r < g.rows; r++) {
		const ry = rowY(g, r);
		const bytes = Math.min(g.rowBytes, g.area - r * g.rowBytes);
		out.push(
			`<rect class="row" x="${num(g.mapX)}" y="${num(ry)}" width="${num(bytes * g.pxPerByte)}" height="${num(g.rowHeight)}" ` +
				`fill="${PALETTE.rowBackground}" stroke="${PALETTE.rowOutline}" stroke-width="0.5"/>`,
		);
		out.push(
			`<text x="${num(g.mapX - 6)}" y="${num(ry + g.rowHeight / 2 + 4)}" text-anchor="end" font-size="11" ` +
				`font-family="ui-monospace, Menlo, Consolas, monospace" fill="${PALETTE.muted}">${hex(g.start + r * g.rowBytes)}</text>`,
		);
	}
	return out.join('');
}

/** The legend, wrapped to `width`; returns its elements and height. */
function legend(kinds: Set<PartKind>, requestedKnown: boolean, x0: number, y0: number, width: number, idPrefix: string): { body: string; height: number } {
	const out: string[] = [];
	let x = x0;
	let y = y0;
	for (const [kind, label0] of LEGEND) {
		if (!kinds.has(kind) && kind !== 'header' && kind !== 'payload' && kind !== 'free') continue;
		const label = kind === 'payload' && !requestedKnown ? 'payload (usable size; requests not known)' : label0;
		const w = 18 + label.length * CHAR_W + 16;
		if (x + w > x0 + width && x > x0) {
			x = x0;
			y += LEGEND_ROW_H;
		}
		const fill = kind === 'gap' ? `url(#${idPrefix}-gap)` : PALETTE[kind];
		out.push(`<rect x="${num(x)}" y="${num(y)}" width="12" height="12" fill="${fill}" stroke="${PALETTE.rowOutline}" stroke-width="0.5"/>`);
		out.push(`<text x="${num(x + 17)}" y="${num(y + 10)}" font-size="11">${esc(label)}</text>`);
		x += w;
	}
	return { body: `<g class="legend">${out.join('')}</g>`, height: y - y0 + LEGEND_ROW_H };
}

/** 1 → "1 block", 3 → "3 blocks". */
function blocksWord(n: number): string {
	return `${formatInt(n)} block${n === 1 ? '' : 's'}`;
}

/** The summary of the map, as parts to join with ' · '. */
function summaryParts(heap: Heap, views: readonly BlockView[]): string[] {
	const s = heap.stats();
	const t = blockTotals(views);
	const parts = [
		`region ${formatBytes(s.regionBytes)}`,
		`used ${formatBytes(s.usedBytes)} in ${blocksWord(s.liveBlocks)}`,
		`free ${formatBytes(s.freeBytes)} in ${blocksWord(s.freeBlocks)}`,
		`largest free ${formatBytes(s.largestFreeBlock)}`,
	];
	if (t.internalFragmentation !== null) parts.push(`internal frag ${percent(t.internalFragmentation)}`);
	parts.push(`external frag ${percent(s.externalFragmentation)}`);
	return parts;
}

/** `parts` joined with ' · ' into lines of at most about `width` px of 12 px text. */
function wrapParts(parts: string[], width: number): string[] {
	const lines: string[] = [];
	let line = '';
	for (const p of parts) {
		const next = line === '' ? p : `${line} · ${p}`;
		if (line !== '' && next.length * 6.2 > width) {
			lines.push(line);
			line = p;
		} else line = next;
	}
	if (line !== '') lines.push(line);
	return lines;
}

/** The heap map of `heap` as a panel (see `renderSvg`). */
function mapPanel(heap: Heap, o: SvgMapOptions = {}): Panel {
	const width = o.width ?? 1000;
	checkPositive('renderSvg', 'width', width, false);
	if (o.rowHeight !== undefined) checkPositive('renderSvg', 'rowHeight', o.rowHeight, false);
	const idPrefix = o.idPrefix ?? 'hf';
	const title = o.title ?? 'heapfit heap map';
	const views = o.views ?? blockViews(heap, o.requested);
	const parts = summaryParts(heap, views);
	const summary = parts.join(' · ');
	const lines = wrapParts(parts, width - 2 * PAD);
	const g = geometry(heap, o, width, PAD + TITLE_H + lines.length * SUMMARY_H);
	const body: string[] = [
		`<text x="${PAD}" y="${PAD + 14}" font-size="15" font-weight="600">${esc(title)}</text>`,
		...lines.map((l, i) => `<text class="summary" x="${PAD}" y="${PAD + TITLE_H + 12 + i * SUMMARY_H}" font-size="12" fill="${PALETTE.muted}">${esc(l)}</text>`),
		axisAndRows(g),
		underlay(heap, g, views),
	];
	const kinds = new Set<PartKind>();
	const blocks: string[] = [];
	let reached = g.start;
	for (const v of views) {
		for (const p of v.parts) {
			kinds.add(p.kind);
			reached = Math.max(reached, p.end);
		}
		blocks.push(blockGroup(g, v, o, idPrefix));
	}
	const sentinel = g.start + g.area;
	if (reached < sentinel) {
		let rects = '';
		for (const q of pieces(g, reached, sentinel)) {
			rects += `<rect x="${num(q.x)}" y="${num(q.y)}" width="${num(q.w)}" height="${num(g.rowHeight)}" fill="${PALETTE.unknown}"/>`;
		}
		blocks.push(`<g class="unknown" data-block="${reached}" data-size="${sentinel - reached}"><title>${esc(`${hex(reached)}…${hex(sentinel)}: not reached by the block walker (corrupt heap)`)}</title>${rects}</g>`);
	}
	body.push(
		`<g class="blocks" data-blocks-start="${g.start}" data-area="${g.area}" data-row-bytes="${g.rowBytes}" ` +
			`data-px-per-byte="${g.pxPerByte}" data-map-x="${num(g.mapX)}">${blocks.join('')}</g>`,
	);
	let height = rowY(g, g.rows) + 4;
	if (o.legend ?? true) {
		const requestedKnown = views.every((v) => v.free || v.requested !== null);
		const l = legend(kinds, requestedKnown, PAD, height, width - 2 * PAD, idPrefix);
		body.push(l.body);
		height += l.height;
	}
	height += PAD;
	const desc = `Heap map: ${blocksWord(views.length)} in address order, ${formatBytes(g.rowBytes)} per row. ${summary}.`;
	return { width, height, title, desc, defs: gapPattern(idPrefix), body: body.join('\n') };
}

/**
 * A standalone SVG document drawing every block of `heap` in address order,
 * scaled to its size and wrapped into rows, coloured by what its bytes are
 * for (blocks.ts), with an offset axis, a legend, a summary line and a
 * tooltip per block. Throws HeapError INVALID_OPTIONS for a size option
 * that is not a positive number. O(blocks).
 */
export function renderSvg(heap: Heap, options: SvgMapOptions = {}): string {
	const p = mapPanel(heap, options);
	const id = options.idPrefix ?? 'hf';
	return svgDocument([p], id, p.title, options.interactive ? 'group' : 'img', '', options.declaration ?? true);
}

/** Options for `renderReplaySvg`. */
export interface ReplaySvgOptions {
	/** Options of the heap map panel. */
	map?: Omit<SvgMapOptions, 'requested' | 'views' | 'declaration'>;
	/** Options of the timeline panel. */
	timeline?: TimelineOptions;
	/**
	 * Title of the document.
	 * @defaultValue 'heapfit replay'
	 */
	title?: string;
}

/**
 * One standalone SVG document with the heap map of `heapAtPeak` (drawn with
 * `requested`, when given) over the timeline of `series` (timeline.ts), the
 * two panels the same width.
 */
export function renderReplaySvg(
	heapAtPeak: Heap,
	series: ReplaySeries,
	requested?: ReadonlyMap<number, number>,
	options: ReplaySvgOptions = {},
): string {
	const width = options.map?.width ?? options.timeline?.width ?? 1000;
	const peak = series.peakOp >= 0 ? `, after op ${formatInt(series.peakOp + 1)} (peak live bytes)` : '';
	const map = mapPanel(heapAtPeak, { title: `heap map${peak}`, ...options.map, width, requested, idPrefix: 'hf-map' });
	const timeline = timelinePanel(series, { ...options.timeline, width, idPrefix: 'hf-timeline' });
	return svgDocument([map, timeline], 'hf', options.title ?? 'heapfit replay');
}
