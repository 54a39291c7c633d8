/**
 * Unit tests for src/layout.ts: the constants, the header bits, blockSizeFor
 * and the bytes a freshly formatted region holds (as drawn in the diagrams).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, layout as L } from '../src/index.js';

describe('layout constants', () => {
	test('alignment, header and minimum block are 8 / 4 / 16 bytes', () => {
		assert.equal(L.ALIGN, 8);
		assert.equal(L.ALIGN, 1 << L.ALIGN_BITS);
		assert.equal(L.ALIGN_MASK, 7);
		assert.equal(L.HEADER_BYTES, 4);
		assert.equal(L.FOOTER_BYTES, 4);
		assert.equal(L.ALIGN_TRAILER_BYTES, 4);
		// header + next + prev + footer
		assert.equal(L.MIN_BLOCK, L.HEADER_BYTES + 4 + 4 + L.FOOTER_BYTES);
		assert.equal(L.MIN_BLOCK, 16);
		assert.equal(L.BLOCK_NEXT_FREE, L.HEADER_BYTES);
		assert.equal(L.BLOCK_PREV_FREE, L.HEADER_BYTES + 4);
	});

	test('size-class constants are derived from SL_BITS and ALIGN_BITS', () => {
		assert.equal(L.SL_COUNT, 1 << L.SL_BITS);
		assert.equal(L.SB_BITS, L.SL_BITS + L.ALIGN_BITS);
		assert.equal(L.SMALL_BLOCK, 1 << L.SB_BITS);
		assert.equal(L.SMALL_BLOCK, 256);
		assert.equal(L.FL_SHIFT, L.SB_BITS - 1);
		assert.equal(L.FL_COUNT, 32 - L.FL_SHIFT);
		// The largest block's first level must be a valid index.
		const lg = 31 - Math.clz32(L.MAX_BLOCK);
		assert.ok(lg - L.FL_SHIFT < L.FL_COUNT);
		assert.ok(lg - L.FL_SHIFT >= L.FL_COUNT - 1);
	});

	test('header flag bits are distinct single bits inside FLAG_MASK', () => {
		const flags = [L.FREE, L.PREV_FREE, L.ALIGNED];
		for (const f of flags) {
			assert.equal(f & (f - 1), 0, `${f} is a single bit`);
			assert.equal(f & L.FLAG_MASK, f, `${f} is inside FLAG_MASK`);
		}
		assert.equal(new Set(flags).size, 3);
		assert.equal(L.FREE | L.PREV_FREE | L.ALIGNED, L.FLAG_MASK);
		assert.equal(L.FLAG_MASK, L.ALIGN_MASK);
		assert.equal(L.SIZE_MASK, 0xffff_fff8);
		assert.equal((L.SIZE_MASK | L.FLAG_MASK) >>> 0, 0xffff_ffff);
		assert.equal(L.SIZE_MASK & L.FLAG_MASK, 0);
	});

	test('MAX_BLOCK is the largest multiple of 8 a header word holds', () => {
		assert.equal(L.MAX_BLOCK, 2 ** 32 - 8);
		assert.equal(L.MAX_BLOCK & L.FLAG_MASK, 0);
		assert.equal((L.MAX_BLOCK & L.SIZE_MASK) >>> 0, L.MAX_BLOCK);
		assert.equal(L.MAX_REGION_END % L.ALIGN, 0);
		assert.ok(L.MAX_REGION_END < 2 ** 32);
		assert.equal(L.MAX_ALIGN, 2 ** 31);
	});

	test('root word indexes are distinct and fit in ROOT_WORDS', () => {
		const idx = [
			L.R_MAGIC,
			L.R_VERSION,
			L.R_REGION_START,
			L.R_REGION_END,
			L.R_LOCK,
			L.R_FLAGS,
			L.R_BLOCKS_START,
			L.R_SENTINEL,
			L.R_BITMAP_START,
			L.R_USED_BYTES,
			L.R_FREE_BYTES,
			L.R_LIVE_BLOCKS,
			L.R_FREE_BLOCKS,
			L.R_PEAK_USED,
			L.R_META_BYTES,
			L.R_BITMAP_WORDS,
			L.R_MAX_END,
			L.R_GROWTHS,
		];
		assert.deepEqual(idx, [...Array(18).keys()], 'words 0..17 in the order of the diagram');
		assert.equal(L.ROOT_WORDS, 20, 'words 18-19 reserved');
	});

	test('the TLSF tables follow the root: FL bitmap, SL bitmaps, heads', () => {
		assert.equal(L.T_FL_BITMAP, L.ROOT_WORDS);
		assert.equal(L.T_SL_BITMAP, L.ROOT_WORDS + 1);
		assert.equal(L.T_HEADS, L.T_SL_BITMAP + L.FL_COUNT);
		assert.equal(L.TABLE_END_WORDS, L.T_HEADS + L.FL_COUNT * L.SL_COUNT);
		assert.equal(L.TABLES_BYTES, L.TABLE_END_WORDS * 4);
		assert.equal(L.TABLES_BYTES % 8, 0, 'the bitmap starts 8-aligned relative to the region');
		assert.equal(L.MIN_REGION, L.TABLES_BYTES + 64);
	});

	test('MAGIC reads "HPFT" in little-endian bytes; VERSION_WORD packs the layout', () => {
		const bytes = new Uint8Array(new Uint32Array([L.MAGIC]).buffer);
		assert.equal(String.fromCharCode(...bytes), 'HPFT');
		assert.equal(L.VERSION_WORD & 0xff, L.LAYOUT_VERSION);
		assert.equal((L.VERSION_WORD >>> 8) & 0xff, L.SL_BITS);
		assert.equal((L.VERSION_WORD >>> 16) & 0xff, L.ALIGN_BITS);
		assert.equal(L.VERSION_WORD >>> 24, 0);
	});
});

describe('blockSizeFor', () => {
	test('payloads 0..12 take the 16-byte minimum block', () => {
		for (let n = 0; n <= 12; n++) assert.equal(L.blockSizeFor(n), 16, `size ${n}`);
		assert.equal(L.blockSizeFor(13), 24);
		assert.equal(L.blockSizeFor(20), 24);
		assert.equal(L.blockSizeFor(21), 32);
	});

	test('is the smallest multiple of 8 ≥ max(16, size + 4), for every size up to 5000', () => {
		for (let n = 0; n <= 5000; n++) {
			const s = L.blockSizeFor(n);
			const want = Math.max(16, Math.ceil((n + 4) / 8) * 8);
			assert.equal(s, want, `size ${n}`);
		}
	});

	test('the largest payload maps to MAX_BLOCK', () => {
		const maxPayload = L.MAX_BLOCK - L.HEADER_BYTES;
		assert.equal(L.blockSizeFor(maxPayload), L.MAX_BLOCK);
		assert.equal(L.blockSizeFor(maxPayload - 7), L.MAX_BLOCK);
		assert.equal(L.blockSizeFor(maxPayload - 8), L.MAX_BLOCK - 8);
		assert.equal(L.blockSizeFor(2 ** 31), 2 ** 31 + 8);
	});
});

describe('a freshly formatted region matches the diagrams', () => {
	const heap = new Heap({ buffer: new ArrayBuffer(1 << 16), offset: 1000, length: 40000 });
	const m = heap._m;
	const root = heap.regionStart >>> 2;

	test('root words', () => {
		assert.equal(heap.regionStart, 1000);
		assert.equal(heap.regionEnd, 41000);
		assert.equal(m[root + L.R_MAGIC], L.MAGIC);
		assert.equal(m[root + L.R_VERSION], L.VERSION_WORD);
		assert.equal(m[root + L.R_REGION_START], heap.regionStart);
		assert.equal(m[root + L.R_REGION_END], heap.regionEnd);
		assert.equal(m[root + L.R_LOCK], 0);
		assert.equal(m[root + L.R_FLAGS], 0);
		assert.equal(m[root + L.R_BITMAP_START], heap.regionStart + L.TABLES_BYTES);
		assert.equal(m[root + L.R_BLOCKS_START], heap._blocksStart);
		assert.equal(m[root + L.R_SENTINEL], heap.regionEnd - L.HEADER_BYTES);
		assert.equal(m[root + L.R_META_BYTES], heap._blocksStart - heap.regionStart + L.HEADER_BYTES);
		assert.equal(m[root + L.R_USED_BYTES], 0);
		assert.equal(m[root + L.R_LIVE_BLOCKS], 0);
		assert.equal(m[root + L.R_FREE_BLOCKS], 1);
		assert.equal(m[root + L.R_PEAK_USED], 0);
		assert.equal(m[root + L.R_MAX_END], 0, 'a fixed region');
		assert.equal(m[root + L.R_GROWTHS], 0);
		assert.equal(m[root + 18], 0);
		assert.equal(m[root + 19], 0);
		const bitmapStart = heap.regionStart + L.TABLES_BYTES;
		const words = m[root + L.R_BITMAP_WORDS];
		assert.ok(words * 4 <= heap._blocksStart - bitmapStart, 'the inline bitmap fits before the first block');
		assert.ok(words * 32 * 8 >= heap._sentinel - heap._payloadBase, 'and covers every payload granule');
	});

	test('blocksStart ≡ 4 (mod 8), after a bitmap of one bit per 8 bytes', () => {
		assert.equal(heap._blocksStart % 8, 4);
		assert.equal(heap._payloadBase % 8, 0);
		const bitmapStart = heap.regionStart + L.TABLES_BYTES;
		const bitmapBits = (heap._blocksStart - bitmapStart) * 8;
		assert.ok(bitmapBits >= (heap._sentinel - heap._payloadBase) / 8, 'the bitmap covers every payload granule');
		// ... and not wastefully more: ~1/64 of the region plus a word of padding.
		assert.ok(heap._blocksStart - bitmapStart <= Math.ceil((heap.regionEnd - bitmapStart) / 64) + 12);
	});

	test('one free block spans blocksStart..sentinel, with footer; the sentinel has only P', () => {
		const first = heap._blocksStart;
		const size = heap._sentinel - first;
		assert.equal(m[first >>> 2], size | L.FREE);
		assert.equal(m[(first + size - 4) >>> 2], size, 'footer');
		assert.equal(m[heap._sentinel >>> 2], L.PREV_FREE, 'sentinel: size 0, P set');
		assert.equal(m[root + L.R_FREE_BYTES], size);
		const fl = m[root + L.T_FL_BITMAP];
		assert.equal(fl & (fl - 1), 0, 'exactly one FL bit');
		assert.deepEqual(heap.check(), []);
	});

	test('the payload-start bitmap is all clear', () => {
		const bitmapStart = heap.regionStart + L.TABLES_BYTES;
		for (let a = bitmapStart; a < heap._blocksStart; a += 4) assert.equal(m[a >>> 2], 0);
	});

	test('an allocated block header has no F bit and no footer; every later header ≡ 4 (mod 8)', () => {
		const h = new Heap({ size: 1 << 14 });
		const ptrs = [1, 13, 20, 100, 0, 7].map((n) => h.malloc(n));
		for (const p of ptrs) {
			assert.equal(p % 8, 0);
			const hdr = h._m[(p - 4) >>> 2];
			assert.equal(hdr & L.FREE, 0);
			assert.equal((hdr & L.SIZE_MASK) - 4, h.usableSize(p));
		}
		for (const b of h.blocks()) {
			assert.equal(b.block % 8, 4);
			assert.equal(b.size % 8, 0);
			assert.ok(b.size >= L.MIN_BLOCK);
		}
	});
});
