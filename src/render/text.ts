/**
 * text.ts: the terminal heap map. Main entry point: `renderText(heap)`.
 * Uses no Node API, so it runs in a browser as well.
 *
 * ```
 *  0x00d2c ████▓░░░░░░░░░░░░░░▒████████████████████████████████████░░░░░░░░
 *  0x0112c ░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░
 *  └ label ┘└──────────────── width cells, one glyph each ──────────────────┘
 *  █ used  ▓ mostly used  ▒ mostly free  ░ free  · headers   1 cell = 16 B
 *  used 1.2 KiB  free 60.3 KiB  largest free 58.0 KiB  live 12  free blocks 3  ext frag 3.8%
 * ```
 * Each row starts with the address of its first cell, in hex, zero-padded
 * to one width. Every map row has exactly `width` glyphs; the last row is
 * padded with spaces when the cells run out. The byte accounting per cell
 * is `cellStates` (cells.ts); this file only picks a glyph for each cell:
 *
 * - `░` free:          every byte of the cell is in free blocks;
 * - `█` used:          no free byte, and payload ≥ header bytes;
 * - `·` headers:       no free byte, and header > payload bytes (only
 *                      when a cell is smaller than 8 bytes);
 * - `∘` cached:        no free byte, and more bytes of cached blocks (freed,
 *                      waiting in the small-block cache) than of any other kind;
 * - `#` heapfit's own: no free byte, and more bytes of internal blocks (the
 *                      cache's table, a moved bitmap) than of any other kind;
 * - `▓` / `▒` mixed:   free and other bytes both, `▓` when the bytes that
 *                      are not free are at least half;
 * - `?` unknown:       the walk never reached a byte of it (corrupt heap).
 */
import { checkPositive } from '../errors.js';
import type { Heap } from '../heap.js';
import { type CellState, cellStates } from './cells.js';
import { formatBytes } from './svgkit.js';

/** Options for `renderText`. */
export interface TextMapOptions {
	/**
	 * Cells per row.
	 * @defaultValue 64
	 */
	width?: number;
	/**
	 * Most rows to draw; fewer are drawn when the heap has fewer bytes.
	 * @defaultValue 16
	 */
	rows?: number;
	/**
	 * Colour the glyphs with ANSI escape codes. The library never looks at
	 * the environment: the caller decides (from NO_COLOR, isTTY, …).
	 * @defaultValue false
	 */
	color?: boolean;
	/**
	 * Draw the legend line under the map. The summary line is always drawn.
	 * @defaultValue true
	 */
	legend?: boolean;
}

/** What a cell shows. */
export type CellKind = 'used' | 'mostlyUsed' | 'mostlyFree' | 'free' | 'headers' | 'cached' | 'internal' | 'unknown';

/** Glyph, ANSI colour and legend text of each kind, in legend order. */
const KINDS: Record<CellKind, { glyph: string; sgr: string; label: string }> = {
	used: { glyph: '█', sgr: '36', label: 'used' },
	mostlyUsed: { glyph: '▓', sgr: '33', label: 'mostly used' },
	mostlyFree: { glyph: '▒', sgr: '33', label: 'mostly free' },
	free: { glyph: '░', sgr: '90', label: 'free' },
	headers: { glyph: '·', sgr: '35', label: 'headers' },
	cached: { glyph: '∘', sgr: '32', label: 'cached (freed, not merged)' },
	internal: { glyph: '#', sgr: '34', label: 'heapfit’s own' },
	unknown: { glyph: '?', sgr: '1;31', label: 'unreached (corrupt heap)' },
};

const ESC = '\u001b[';
const RESET = `${ESC}0m`;

/** The kind of glyph a cell gets (see the file comment for the rules). */
export function cellKind(cell: CellState): CellKind {
	if (cell.unknown > 0) return 'unknown';
	const total = cell.end - cell.start;
	if (cell.free === total) return 'free';
	if (cell.free === 0) {
		const allocated = cell.used + cell.header;
		if (cell.cached > allocated && cell.cached >= cell.internal) return 'cached';
		if (cell.internal > allocated) return 'internal';
		return cell.header > cell.used ? 'headers' : 'used';
	}
	return 2 * (total - cell.free) >= total ? 'mostlyUsed' : 'mostlyFree';
}

/** One row of glyphs, coloured in runs of one kind when `color` is set. */
function renderRow(kinds: CellKind[], width: number, color: boolean): string {
	let out = '';
	let i = 0;
	while (i < kinds.length) {
		const kind = kinds[i];
		let j = i + 1;
		while (j < kinds.length && kinds[j] === kind) j++;
		const run = KINDS[kind].glyph.repeat(j - i);
		out += color ? `${ESC}${KINDS[kind].sgr}m${run}${RESET}` : run;
		i = j;
	}
	return out + ' '.repeat(width - kinds.length);
}

/** The legend line: the kinds present in the map, and the cell size. */
function renderLegend(present: Set<CellKind>, cellBytes: number, color: boolean): string {
	const parts: string[] = [];
	for (const [kind, k] of Object.entries(KINDS) as [CellKind, (typeof KINDS)[CellKind]][]) {
		if (kind !== 'used' && kind !== 'free' && !present.has(kind)) continue;
		const glyph = color ? `${ESC}${k.sgr}m${k.glyph}${RESET}` : k.glyph;
		parts.push(`${glyph} ${k.label}`);
	}
	return `${parts.join('  ')}   1 cell = ${formatBytes(cellBytes, 1)}`;
}

/** The one-line summary from `heap.stats()`. */
function renderSummary(heap: Heap): string {
	const s = heap.stats();
	return [
		`used ${formatBytes(s.usedBytes, 1)}`,
		`free ${formatBytes(s.freeBytes, 1)}`,
		`largest free ${formatBytes(s.largestFreeBlock, 1)}`,
		`live ${s.liveBlocks}`,
		`free blocks ${s.freeBlocks}`,
		`ext frag ${(s.externalFragmentation * 100).toFixed(1)}%`,
	].join('  ');
}

/**
 * A map of `heap`'s blocks area as text: `min(rows, needed)` rows of
 * `width` glyphs, each row led by its start address, then (unless
 * `legend: false`) a legend line, then a summary line. Lines are joined
 * with "\n", with no newline at the end. Throws HeapError INVALID_OPTIONS
 * unless `width` and `rows` are positive integers.
 */
export function renderText(heap: Heap, options: TextMapOptions = {}): string {
	const { width = 64, rows = 16, color = false, legend = true } = options;
	checkPositive('renderText', 'width', width, true);
	checkPositive('renderText', 'rows', rows, true);
	const cells = cellStates(heap, width * rows);
	const cellBytes = cells[0].end - cells[0].start;
	const rowCount = Math.ceil(cells.length / width);
	const lastRowStart = cells[(rowCount - 1) * width].start;
	const digits = lastRowStart.toString(16).length;
	const present = new Set<CellKind>();
	const lines: string[] = [];
	for (let r = 0; r < rowCount; r++) {
		const row = cells.slice(r * width, (r + 1) * width);
		const kinds = row.map(cellKind);
		for (const k of kinds) present.add(k);
		const label = `0x${row[0].start.toString(16).padStart(digits, '0')}`;
		lines.push(`${label} ${renderRow(kinds, width, color)}`);
	}
	if (legend) lines.push(renderLegend(present, cellBytes, color));
	lines.push(renderSummary(heap));
	return lines.join('\n');
}
