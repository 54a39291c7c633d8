/**
 * Unit tests for src/render/: the per-cell byte accounting (cells.ts) against
 * a naive byte-by-byte classification, and the text map (text.ts) against
 * the glyph rules applied to that reference.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, HeapError, layout as L } from '../src/index.js';
import { type CellState, cellKind, cellStates, renderText } from '../src/render/index.js';
import { mulberry32 as rng } from './support/rng.js';

const ANSI = /\u001b\[[0-9;]*m/g;
const GLYPH = { used: '█', mostlyUsed: '▓', mostlyFree: '▒', free: '░', headers: '·', cached: '∘', internal: '#', unknown: '?' } as const;

/** A heap after a seeded mix of malloc, alignedAlloc and free. */
function patternHeap(seed: number, size = 32 * 1024, cache = false): Heap {
	const heap = new Heap({ size, cache });
	const r = rng(seed);
	const live: number[] = [];
	for (let i = 0; i < 250; i++) {
		const p = r() < 0.15 ? heap.alignedAlloc(64 << ((r() * 3) | 0), (r() * 120) | 0) : heap.malloc((r() * 200) | 0);
		if (p !== 0) live.push(p);
		if (live.length > 0 && r() < 0.45) heap.free(live.splice((r() * live.length) | 0, 1)[0]);
	}
	assert.deepEqual(heap.check(), []);
	return heap;
}

/** Allocates until not one byte is free. */
function fullHeap(size = 16 * 1024): Heap {
	const heap = new Heap({ size });
	for (const n of [100, 12, 0]) while (heap.malloc(n) !== 0);
	assert.equal(heap.stats().freeBytes, 0, 'precondition: nothing free');
	return heap;
}

const enum B {
	Free = 0,
	Header = 1,
	Used = 2,
	Unknown = 3,
	Cached = 4,
	Internal = 5,
}

/**
 * The reference: classify every byte of the blocks area from heap.blocks(),
 * then sum bytes per cell of ⌈area / cells⌉ bytes.
 */
function reference(heap: Heap, cells: number): CellState[] {
	const start = heap._blocksStart;
	const area = heap._sentinel - start;
	const state = new Uint8Array(area).fill(B.Unknown);
	for (const b of heap.blocks()) {
		for (let a = b.block; a < b.block + b.size && a < heap._sentinel; a++) {
			state[a - start] = b.free ? B.Free : b.cached ? B.Cached : b.internal ? B.Internal : a < b.ptr ? B.Header : B.Used;
		}
	}
	const size = Math.max(1, Math.ceil(area / cells));
	const out: CellState[] = [];
	for (let from = 0; from < area; from += size) {
		const cell = { start: start + from, end: start + Math.min(from + size, area), used: 0, header: 0, free: 0, cached: 0, internal: 0, unknown: 0 };
		for (let i = from; i < Math.min(from + size, area); i++) {
			const s = state[i];
			if (s === B.Free) cell.free++;
			else if (s === B.Cached) cell.cached++;
			else if (s === B.Internal) cell.internal++;
			else if (s === B.Header) cell.header++;
			else if (s === B.Used) cell.used++;
			else cell.unknown++;
		}
		out.push(cell);
	}
	return out;
}

/** The glyph the file comment of text.ts promises for a cell. */
function expectedGlyph(c: CellState): string {
	const total = c.end - c.start;
	if (c.unknown > 0) return GLYPH.unknown;
	if (c.free === total) return GLYPH.free;
	if (c.free === 0) {
		if (c.cached > c.used + c.header && c.cached >= c.internal) return GLYPH.cached;
		if (c.internal > c.used + c.header) return GLYPH.internal;
		return c.header > c.used ? GLYPH.headers : GLYPH.used;
	}
	return (c.end - c.start - c.free) * 2 >= total ? GLYPH.mostlyUsed : GLYPH.mostlyFree;
}

/** The map rows of a rendering, split into [label, glyphs]. */
function mapRows(text: string, rowCount: number): [string, string][] {
	return text
		.split('\n')
		.slice(0, rowCount)
		.map((line) => {
			const sp = line.indexOf(' ');
			return [line.slice(0, sp), line.slice(sp + 1)];
		});
}

describe('cellStates', () => {
	test('a fresh heap is free in every cell', () => {
		const heap = new Heap({ size: 16 * 1024 });
		const cells = cellStates(heap, 1024);
		assert.ok(cells.length > 1);
		for (const c of cells) {
			assert.equal(c.free, c.end - c.start, `cell at ${c.start}`);
			assert.equal(c.used + c.header + c.unknown, 0);
		}
	});

	test('a fully allocated heap has no free byte in any cell', () => {
		const heap = fullHeap();
		for (const c of cellStates(heap, 500)) {
			assert.equal(c.free, 0, `cell at ${c.start}`);
			assert.equal(c.unknown, 0);
			assert.ok(c.used > 0);
		}
	});

	for (const seed of [1, 2, 3]) {
		test(`seed ${seed}: matches a byte-by-byte classification for many cell counts (with and without the cache)`, () => {
			for (const cache of [false, true]) {
				const heap = patternHeap(seed, 32 * 1024, cache);
				if (cache) assert.ok(heap.stats().cachedBlocks > 0, 'some blocks are cached');
				const area = heap._sentinel - heap._blocksStart;
				for (const n of [1, 7, 100, 1024, area - 1, area, area + 5]) {
					assert.deepEqual(cellStates(heap, n), reference(heap, n), `cache ${cache}, cells = ${n}`);
				}
			}
		});
	}

	test('cells tile the blocks area and per-state totals match stats()', () => {
		const heap = patternHeap(4, 32 * 1024, true);
		const table = [...heap.blocks()].filter((b) => b.internal).reduce((n, b) => n + b.size, 0);
		const s = heap.stats();
		const cells = cellStates(heap, 333);
		const size = Math.ceil((heap._sentinel - heap._blocksStart) / 333);
		let at = heap._blocksStart;
		const sum = { used: 0, header: 0, free: 0, cached: 0, internal: 0, unknown: 0 };
		for (const c of cells) {
			assert.equal(c.start, at, 'cells are contiguous');
			assert.ok(c.end - c.start === size || c.end === heap._sentinel, 'every cell but the last is full size');
			assert.equal(c.used + c.header + c.free + c.cached + c.internal + c.unknown, c.end - c.start, `cell at ${c.start} sums to its size`);
			sum.cached += c.cached;
			sum.internal += c.internal;
			sum.used += c.used;
			sum.header += c.header;
			sum.free += c.free;
			sum.unknown += c.unknown;
			at = c.end;
		}
		assert.equal(at, heap._sentinel, 'cells end at the sentinel');
		assert.ok(cells.length <= 333);
		assert.ok(s.cachedBytes > 0 && table > 0, 'the heap has cached blocks and the cache table');
		assert.deepEqual(sum, { used: s.usedBytes, header: s.liveBlocks * L.HEADER_BYTES, free: s.freeBytes, cached: s.cachedBytes, internal: table, unknown: 0 });
	});

	test('bytes past a corrupt header are counted as unknown', () => {
		const heap = patternHeap(5);
		const victim = [...heap.blocks()][10];
		heap._m[victim.block >>> 2] = 0; // size 0: the walk stops here
		const cells = cellStates(heap, 256);
		assert.deepEqual(cells, reference(heap, 256));
		const unknown = cells.reduce((n, c) => n + c.unknown, 0);
		assert.equal(unknown, heap._sentinel - victim.block);
		for (const c of cells) assert.equal(c.used + c.header + c.free + c.unknown, c.end - c.start);
	});

	test('rejects a cell count that is not a positive integer', () => {
		const heap = new Heap({ size: 8192 });
		for (const n of [0, -1, 1.5, Number.NaN]) {
			assert.throws(() => cellStates(heap, n), (e: unknown) => e instanceof HeapError && e.code === 'INVALID_OPTIONS');
		}
	});
});

describe('renderText', () => {
	test('a fresh heap draws only free cells', () => {
		const heap = new Heap({ size: 16 * 1024 });
		const rows = mapRows(renderText(heap), 16);
		for (const [, glyphs] of rows) assert.match(glyphs, /^░+ *$/);
		assert.ok(rows.some(([, g]) => g.startsWith('░')));
	});

	test('a fully allocated heap draws only used cells', () => {
		const heap = fullHeap();
		const rows = mapRows(renderText(heap, { width: 50, rows: 10 }), 10);
		assert.equal(rows.length, 10);
		for (const [, glyphs] of rows) assert.match(glyphs, /^█+ *$/);
	});

	for (const [width, rowCount] of [
		[64, 16],
		[17, 5],
		[1, 3],
	]) {
		test(`${width}×${rowCount}: every glyph follows the rules for the reference cell`, () => {
			const heap = patternHeap(6);
			const ref = reference(heap, width * rowCount);
			const rows = mapRows(renderText(heap, { width, rows: rowCount }), rowCount);
			const drawn = rows.map(([, g]) => g).join('');
			const want = ref.map(expectedGlyph).join('').padEnd(rows.length * width, ' ');
			assert.equal(drawn, want);
		});
	}

	test('the pattern map shows used, free and mixed cells', () => {
		const text = renderText(patternHeap(6));
		for (const g of [GLYPH.used, GLYPH.free]) assert.ok(text.includes(g), `has ${g}`);
		assert.ok(text.includes(GLYPH.mostlyUsed) || text.includes(GLYPH.mostlyFree), 'has a mixed cell');
	});

	test('row count, row widths and row labels are exact', () => {
		const heap = patternHeap(7);
		const area = heap._sentinel - heap._blocksStart;
		for (const [width, rows] of [
			[64, 16],
			[10, 3],
			[33, 7],
		]) {
			const lines = renderText(heap, { width, rows }).split('\n');
			assert.equal(lines.length, rows + 2, 'rows, legend, summary');
			const size = Math.ceil(area / (width * rows));
			const labelWidth = `0x${(heap._blocksStart + (rows - 1) * width * size).toString(16)}`.length;
			for (const [r, [label, glyphs]] of mapRows(lines.join('\n'), rows).entries()) {
				assert.equal(label.length, labelWidth, `label of row ${r}`);
				assert.equal(Number.parseInt(label, 16), heap._blocksStart + r * width * size, `address of row ${r}`);
				assert.equal([...glyphs].length, width, `width of row ${r}`);
			}
		}
	});

	test('fewer rows when the heap has fewer bytes than cells', () => {
		const heap = new Heap({ size: 4096 });
		const area = heap._sentinel - heap._blocksStart;
		const width = 16;
		assert.ok(area < width * 1000);
		const lines = renderText(heap, { width, rows: 1000 }).split('\n');
		const rowCount = Math.ceil(area / width);
		assert.equal(lines.length, rowCount + 2);
		const last = mapRows(lines.join('\n'), rowCount)[rowCount - 1][1];
		const filled = area - (rowCount - 1) * width;
		assert.equal(last, '░'.repeat(filled) + ' '.repeat(width - filled), 'the last row is padded with spaces');
		assert.match(lines[rowCount], /1 cell = 1 B/);
	});

	test('no ANSI escape codes without color; the same text with them when color is on', () => {
		const heap = patternHeap(8);
		const plain = renderText(heap, { color: false });
		const colored = renderText(heap, { color: true });
		assert.doesNotMatch(plain, /\u001b/);
		assert.doesNotMatch(renderText(heap), /\u001b/, 'color defaults to off');
		assert.match(colored, ANSI);
		assert.equal(colored.replace(ANSI, ''), plain);
	});

	test('legend and summary lines', () => {
		const heap = patternHeap(9);
		const s = heap.stats();
		const lines = renderText(heap, { width: 32, rows: 4 }).split('\n');
		assert.equal(lines.length, 6);
		const legend = lines[4];
		for (const word of ['█ used', '░ free', '1 cell = ']) assert.ok(legend.includes(word), `legend has ${word}`);
		const summary = lines[5];
		assert.ok(summary.includes(`live ${s.liveBlocks}`), summary);
		assert.ok(summary.includes(`free blocks ${s.freeBlocks}`), summary);
		assert.ok(summary.includes(`ext frag ${(s.externalFragmentation * 100).toFixed(1)}%`), summary);
		assert.ok(s.externalFragmentation > 0, 'precondition: a fragmented heap');

		const bare = renderText(heap, { width: 32, rows: 4, legend: false }).split('\n');
		assert.equal(bare.length, 5);
		assert.equal(bare[4], summary);
		assert.ok(!bare.some((l) => l.includes('1 cell = ')));
	});

	test('a corrupt heap draws its unreached cells as ?', () => {
		const heap = patternHeap(10);
		const victim = [...heap.blocks()][3];
		heap._m[victim.block >>> 2] = 0;
		const text = renderText(heap, { width: 64, rows: 4 });
		const drawn = mapRows(text, 4)
			.map(([, g]) => g)
			.join('');
		assert.match(drawn, /\?+ *$/);
		assert.ok(text.includes('? unreached'));
	});

	test('cellKind on handmade cells, at the half-allocated boundary too', () => {
		const cell = { start: 0, end: 10, used: 3, header: 1, free: 6, cached: 0, internal: 0, unknown: 0 };
		assert.equal(cellKind(cell), 'mostlyFree');
		assert.equal(cellKind({ ...cell, used: 4, free: 5 }), 'mostlyUsed');
		assert.equal(cellKind({ ...cell, used: 2, header: 8, free: 0 }), 'headers');
		assert.equal(cellKind({ ...cell, used: 3, header: 1, cached: 6, free: 0 }), 'cached');
		assert.equal(cellKind({ ...cell, used: 0, header: 0, internal: 10, free: 0 }), 'internal');
		assert.equal(cellKind({ ...cell, used: 0, header: 0, cached: 5, free: 5 }), 'mostlyUsed', 'cached bytes are not free');
	});

	test('rejects widths and row counts that are not positive integers', () => {
		const heap = new Heap({ size: 8192 });
		for (const opts of [{ width: 0 }, { rows: -2 }, { width: 2.5 }, { rows: Number.NaN }]) {
			assert.throws(() => renderText(heap, opts), (e: unknown) => e instanceof HeapError && e.code === 'INVALID_OPTIONS');
		}
	});
});
