/**
 * Unit tests for the SVG renderers (src/render/svg.ts, timeline.ts), the
 * block classification they draw (blocks.ts), the replay sampler
 * (sample.ts) and the TLSF table reader (bins.ts).
 *
 * Every document is checked to be well-formed XML (test/support/xml.ts), and
 * the heap map's geometry is checked against the block walker: each block
 * appears once, in address order, and its rects, read back into byte
 * offsets, tile the blocks area exactly.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Heap, HeapError, layout as L } from '../src/index.js';
import {
	type ReplaySeries,
	blockTotals,
	blockViews,
	emptySeries,
	renderReplaySvg,
	renderSvg,
	renderTimelineSvg,
	replayToSvg,
	sampleReplay,
	tlsfBins,
} from '../src/render/index.js';
import { readTrace, replay } from '../src/trace/index.js';
import { mulberry32 as rng } from './support/rng.js';
import { type XmlElement, findAll, hasClass, parseXml } from './support/xml.js';

/** A heap after a seeded mix of malloc, alignedAlloc and free, with the requested sizes. */
function patternHeap(seed: number, size = 32 * 1024): { heap: Heap; requested: Map<number, number> } {
	const heap = new Heap({ size });
	const requested = new Map<number, number>();
	const r = rng(seed);
	const live: number[] = [];
	for (let i = 0; i < 250; i++) {
		const n = (r() * 200) | 0;
		const p = r() < 0.15 ? heap.alignedAlloc(64 << ((r() * 3) | 0), n) : heap.malloc(n);
		if (p !== 0) {
			live.push(p);
			requested.set(p, n);
		}
		if (live.length > 0 && r() < 0.45) {
			const q = live.splice((r() * live.length) | 0, 1)[0];
			heap.free(q);
			requested.delete(q);
		}
	}
	assert.deepEqual(heap.check(), []);
	return { heap, requested };
}

/** The map's `<g class="blocks">` and its geometry attributes. */
function mapOf(doc: XmlElement) {
	const [blocks] = findAll(doc, (e) => e.name === 'g' && hasClass(e, 'blocks'));
	assert.ok(blocks, 'the map has a blocks group');
	return {
		blocks,
		start: Number(blocks.attrs['data-blocks-start']),
		area: Number(blocks.attrs['data-area']),
		rowBytes: Number(blocks.attrs['data-row-bytes']),
		ppb: Number(blocks.attrs['data-px-per-byte']),
		mapX: Number(blocks.attrs['data-map-x']),
	};
}

/** The row tops of the map (from the row outlines). */
function rowTops(doc: XmlElement): number[] {
	return findAll(doc, (e) => e.name === 'rect' && hasClass(e, 'row')).map((e) => Number(e.attrs.y));
}

/**
 * Checks that the map in `doc` draws exactly the blocks of `heap`, in order,
 * once each, and that reading each rect back as bytes tiles the blocks area.
 */
function assertGeometry(doc: XmlElement, heap: Heap): void {
	const { blocks, start, area, rowBytes, ppb, mapX } = mapOf(doc);
	assert.equal(start, heap._blocksStart);
	assert.equal(area, heap._sentinel - heap._blocksStart);
	const tops = rowTops(doc);
	const walker = [...heap.blocks()];
	const groups = blocks.children.filter((e) => e.name === 'g' && hasClass(e, 'block'));
	assert.equal(groups.length, walker.length, 'one group per block');
	// Coordinates have 3 decimals: each rect may be off by 0.0005 px per number.
	const slack = (k: number) => (0.001 * (k + 1)) / ppb + 1e-9;
	let sumWidth = 0;
	let rects = 0;
	let end = 0;
	for (const [i, b] of walker.entries()) {
		const g = groups[i];
		assert.equal(Number(g.attrs['data-block']), b.block, `block ${i} in address order`);
		assert.equal(Number(g.attrs['data-size']), b.size);
		const state = g.attrs['data-state'];
		const want = b.free ? ['free', 'gap'] : b.internal ? ['internal'] : b.cached ? ['cached'] : ['allocated'];
		assert.ok(want.includes(state), `block ${i} state ${state}, wanted ${want.join(' or ')}`);
		assert.equal(g.children[0].name, 'title', 'each block has a tooltip');
		assert.match(g.children[0].text, new RegExp(`^block 0x${b.block.toString(16)}, `));
		let cursor = b.block - start; // bytes from blocksStart, read back from the rects
		let blockWidth = 0;
		const own = g.children.filter((e) => e.name === 'rect');
		assert.ok(own.length >= 1);
		for (const [k, r] of own.entries()) {
			const x = Number(r.attrs.x);
			const w = Number(r.attrs.width);
			const row = tops.indexOf(Number(r.attrs.y));
			assert.ok(row >= 0, 'every rect sits on a row');
			assert.ok(w > 0 && x >= mapX - 0.001 && x + w <= mapX + rowBytes * ppb + 0.002, 'every rect lies inside its row');
			const at = row * rowBytes + (x - mapX) / ppb;
			assert.ok(Math.abs(at - cursor) < slack(k), `block ${i}: rect ${k} starts at byte ${at}, expected ${cursor}`);
			cursor += w / ppb;
			blockWidth += w;
			rects++;
		}
		assert.ok(Math.abs(cursor - (b.block + b.size - start)) < slack(own.length), `block ${i}: its rects end where it ends`);
		assert.ok(Math.abs(blockWidth - b.size * ppb) <= 0.0005 * own.length + 1e-9, `block ${i}: widths ${blockWidth} vs ${b.size * ppb}`);
		sumWidth += blockWidth;
		end = b.block + b.size - start;
	}
	assert.equal(end, area, 'the blocks end at the sentinel');
	assert.ok(Math.abs(sumWidth - area * ppb) <= 0.0005 * rects + 1e-9, `Σ widths ${sumWidth} = area in px ${area * ppb}`);
}

/** Ids must be unique in a document. */
function assertUniqueIds(doc: XmlElement): void {
	const ids = findAll(doc, (e) => e.attrs.id !== undefined).map((e) => e.attrs.id);
	assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.join(' ')}`);
}

describe('renderSvg', () => {
	test('a fresh heap: well-formed, one free block spanning the area', () => {
		const heap = new Heap({ size: 8192 });
		const svg = renderSvg(heap);
		assert.ok(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"'));
		const doc = parseXml(svg);
		assert.equal(doc.name, 'svg');
		assert.ok(findAll(doc, (e) => e.name === 'title').length >= 2);
		assertGeometry(doc, heap);
		assertUniqueIds(doc);
	});

	for (const seed of [1, 2, 3]) {
		for (const opts of [{}, { rows: 1 }, { rows: 7, width: 640 }, { rowBytes: 8 * 37, width: 333 }]) {
			test(`seed ${seed}, ${JSON.stringify(opts)}: blocks in order, rects tile the area`, () => {
				const { heap, requested } = patternHeap(seed);
				for (const req of [undefined, requested]) {
					const doc = parseXml(renderSvg(heap, { ...opts, requested: req }));
					assertGeometry(doc, heap);
					assertUniqueIds(doc);
				}
			});
		}
	}

	test('a heap of sub-pixel blocks gets an underlay, and its blocks still tile the area', () => {
		const { heap } = patternHeap(4, 256 * 1024);
		const doc = parseXml(renderSvg(heap, { rows: 2, width: 400 }));
		assert.equal(findAll(doc, (e) => hasClass(e, 'underlay')).length, 1);
		assertGeometry(doc, heap);
		const small = parseXml(renderSvg(new Heap({ size: 8192 })));
		assert.equal(findAll(small, (e) => hasClass(e, 'underlay')).length, 0, 'no underlay when blocks are wide');
	});

	test('parts: header, payload, slack and trailer follow the request and the alignment', () => {
		const heap = new Heap({ size: 8192 });
		const a = heap.malloc(13); // block 24: header 4, payload 13, slack 7
		const b = heap.alignedAlloc(256, 40); // ALIGNED: trailer 4
		const requested = new Map([
			[a, 13],
			[b, 40],
		]);
		const views = blockViews(heap, requested);
		const va = views.find((v) => v.ptr === a);
		const vb = views.find((v) => v.ptr === b);
		assert.ok(va && vb);
		assert.deepEqual(
			va.parts.map((p) => [p.kind, p.end - p.start]),
			[
				['header', 4],
				['payload', 13],
				['slack', 7],
			],
		);
		assert.equal(vb.align, 256);
		assert.equal(vb.parts.at(-1)?.kind, 'trailer');
		assert.equal(vb.usable, vb.size - 8);
		assert.equal(vb.ptr % 256, 0);
		const before = views[views.indexOf(vb) - 1];
		assert.equal(before.state, 'gap', 'the free padding in front of the aligned block');
		// Without requests the whole usable size is payload, and there is no slack.
		const plain = blockViews(heap).find((v) => v.ptr === a);
		assert.deepEqual(
			plain?.parts.map((p) => p.kind),
			['header', 'payload'],
		);
		// The drawing: the slack rect of `a` is 7 bytes wide.
		const doc = parseXml(renderSvg(heap, { requested, rows: 1 }));
		const { ppb } = mapOf(doc);
		const ga = findAll(doc, (e) => e.attrs['data-ptr'] === String(a))[0];
		const slack = ga.children.filter((e) => hasClass(e, 'part-slack'));
		assert.equal(slack.length, 1);
		assert.ok(Math.abs(Number(slack[0].attrs.width) - 7 * ppb) < 0.001);
		assert.equal(ga.attrs['data-requested'], '13');
		assert.equal(findAll(doc, (e) => e.attrs['data-state'] === 'gap').length, 1);
		assert.ok(findAll(doc, (e) => hasClass(e, 'part-trailer')).length === 1);
		assertGeometry(doc, heap);
	});

	test('block totals agree with stats()', () => {
		for (const seed of [5, 6]) {
			const { heap, requested } = patternHeap(seed);
			const s = heap.stats();
			const t = blockTotals(blockViews(heap, requested));
			assert.equal(t.bytes, heap._sentinel - heap._blocksStart);
			assert.equal(t.header, L.HEADER_BYTES * s.liveBlocks);
			assert.equal(t.payload + t.slack + t.trailer, s.usedBytes);
			assert.equal(t.free, s.freeBytes);
			assert.equal(t.largestFree, s.largestFreeBlock);
			assert.equal(t.allocatedBlocks, s.liveBlocks);
			assert.equal(t.freeBlocks, s.freeBlocks);
			assert.equal(t.externalFragmentation, s.externalFragmentation);
			let asked = 0;
			for (const n of requested.values()) asked += n;
			assert.equal(t.payload, asked);
			assert.equal(t.internalFragmentation, t.slack / t.knownUsable);
		}
	});

	test('a shared heap: its thread table is drawn internal and its cached blocks cached, with legend entries', () => {
		const heap = new Heap({ buffer: new SharedArrayBuffer(256 * 1024) });
		const p = heap.malloc(100);
		const q = heap.malloc(100);
		heap.free(p);
		const views = blockViews(heap);
		const t = blockTotals(views);
		const s = heap.stats();
		assert.equal(t.cached, s.cachedBytes);
		assert.equal(views.filter((v) => v.state === 'cached').length, s.cachedBlocks);
		assert.equal(views.filter((v) => v.state === 'internal').length, 1);
		// META_BYTES = everything before the first block, the sentinel, and the internal blocks.
		assert.equal(t.internal, s.metaBytes - (heap._blocksStart - heap.regionStart) - L.HEADER_BYTES);
		const doc = parseXml(renderSvg(heap));
		const blocks = findAll(doc, (e) => hasClass(e, 'block'));
		const stateOf = (ptr: number) => blocks.find((e) => e.attrs['data-ptr'] === String(ptr))?.attrs['data-state'];
		assert.equal(stateOf(p), 'cached');
		assert.equal(stateOf(q), 'allocated');
		assert.equal(blocks.filter((e) => e.attrs['data-state'] === 'internal').length, 1);
		const legendText = findAll(doc, (e) => e.name === 'text' && e.text.includes('small-block cache'));
		assert.equal(legendText.length, 1, 'the legend names cached blocks');
	});

	test('text is escaped: a title full of markup stays well-formed and reads back', () => {
		const title = `<b>&amp; "quotes" 'apos' ]]> &#0;`;
		const doc = parseXml(renderSvg(new Heap({ size: 8192 }), { title }));
		assert.equal(findAll(doc, (e) => e.name === 'title')[0].text, title);
	});

	test('interactive: every block is a focusable button named by its title', () => {
		const { heap } = patternHeap(7);
		const doc = parseXml(renderSvg(heap, { interactive: true, declaration: false }));
		assert.equal(doc.attrs.role, 'group');
		for (const g of findAll(doc, (e) => hasClass(e, 'block'))) {
			assert.equal(g.attrs.tabindex, '-1');
			assert.equal(g.attrs.role, 'button');
			assert.equal(g.children[0].name, 'title');
			assert.ok(g.children[0].text.length > 10);
		}
	});

	test('a corrupt heap: the bytes the walker never reached are drawn as unknown', () => {
		const { heap } = patternHeap(8);
		const victim = [...heap.blocks()][5];
		heap._m[victim.block >>> 2] = 0;
		const doc = parseXml(renderSvg(heap));
		const unknown = findAll(doc, (e) => hasClass(e, 'unknown'));
		assert.equal(unknown.length, 1);
		assert.equal(Number(unknown[0].attrs['data-size']), heap._sentinel - victim.block);
	});

	test('rejects sizes that are not positive', () => {
		const heap = new Heap({ size: 8192 });
		for (const bad of [{ width: 0 }, { rows: 0 }, { rows: 1.5 }, { rowBytes: -8 }, { rowHeight: Number.NaN }]) {
			assert.throws(() => renderSvg(heap, bad), (e: unknown) => e instanceof HeapError && e.code === 'INVALID_OPTIONS', JSON.stringify(bad));
		}
	});
});

/** A series of `n` samples with plausible figures. */
function fakeSeries(n: number): ReplaySeries {
	const s = emptySeries(1 << 20, n * 10);
	for (let i = 0; i < n; i++) {
		s.op.push(i * 10);
		s.liveBytes.push(i * 1000);
		s.usedBytes.push(i * 1100);
		s.footprintBytes.push(i * 1300);
		s.freeBytes.push((1 << 20) - i * 1200);
		s.largestFreeBytes.push((1 << 20) - i * 1500);
	}
	s.peakOp = n * 5;
	return s;
}

describe('renderTimelineSvg', () => {
	test('five curves of one point per sample, the fragmentation band and the peak marker', () => {
		const doc = parseXml(renderTimelineSvg(fakeSeries(50)));
		const curves = findAll(doc, (e) => e.name === 'polyline');
		assert.deepEqual(curves.map((c) => c.attrs['data-series']).sort(), ['footprintBytes', 'freeBytes', 'largestFreeBytes', 'liveBytes', 'usedBytes']);
		for (const c of curves) assert.equal(c.attrs.points.split(' ').length, 50);
		assert.equal(findAll(doc, (e) => e.name === 'polygon' && hasClass(e, 'external-fragmentation')).length, 1);
		const marker = findAll(doc, (e) => hasClass(e, 'marker'));
		assert.equal(marker.length, 1);
		assert.equal(marker[0].attrs['data-op'], String(50 * 5 + 1));
		// Every point lies inside the plot frame.
		const frame = findAll(doc, (e) => e.name === 'rect' && e.attrs.fill === 'none')[0];
		const [fx, fy, fw, fh] = ['x', 'y', 'width', 'height'].map((k) => Number(frame.attrs[k]));
		for (const c of curves) {
			for (const pt of c.attrs.points.split(' ')) {
				const [x, y] = pt.split(',').map(Number);
				assert.ok(x >= fx - 1e-6 && x <= fx + fw + 1e-6 && y >= fy - 1e-6 && y <= fy + fh + 1e-6, `${pt} inside the frame`);
			}
		}
	});

	test('fromOp zooms on the end: the curves start at the last sample before it, at the left edge', () => {
		const doc = parseXml(renderTimelineSvg(fakeSeries(50), { fromOp: 205 }));
		const frame = findAll(doc, (e) => e.name === 'rect' && e.attrs.fill === 'none')[0];
		for (const c of findAll(doc, (e) => e.name === 'polyline')) {
			const pts = c.attrs.points.split(' ');
			assert.equal(pts.length, 50 - 20, 'samples from op 200 on');
			assert.equal(Number(pts[0].split(',')[0]), Number(frame.attrs.x), 'the first point sits on the left edge');
		}
		const ticks = findAll(doc, (e) => e.name === 'text' && /^\d+$/.test(e.text)).map((e) => Number(e.text));
		assert.ok(ticks.length > 0 && ticks.every((t) => t >= 205 && Number.isInteger(t)), `op ticks ${ticks}`);
	});

	test('an empty series and a marker of null still make a well-formed document', () => {
		const doc = parseXml(renderTimelineSvg(emptySeries(4096, 0), { marker: null }));
		assert.equal(findAll(doc, (e) => e.name === 'polyline').length, 0);
		assert.equal(findAll(doc, (e) => hasClass(e, 'marker')).length, 0);
	});
});

/** A small synthetic trace: a growing phase, frees leaving holes, a realloc phase. */
function synthTrace(): string {
	const lines = ['# alloc-trace v1 program=synthetic'];
	const r = rng(42);
	const live: number[] = [];
	let next = 1;
	for (let i = 0; i < 3000; i++) {
		const x = r();
		if (x < 0.55 || live.length === 0) {
			lines.push(`a ${next} ${(r() * 300) | 0}`);
			live.push(next++);
		} else if (x < 0.6) {
			lines.push(`m ${next} ${64 << ((r() * 2) | 0)} ${(r() * 100) | 0}`);
			live.push(next++);
		} else if (x < 0.7) {
			lines.push(`r ${live[(r() * live.length) | 0]} ${(r() * 500) | 0}`);
		} else {
			lines.push(`f ${live.splice((r() * live.length) | 0, 1)[0]}`);
		}
	}
	return `${lines.join('\n')}\n`;
}

describe('sampleReplay and replayToSvg', () => {
	test('the series ends where the report ends, and requested sizes match the live blocks', async () => {
		const trace = await readTrace(synthTrace());
		const heap = new Heap({ size: 1 << 20 });
		const { report, series, requested } = sampleReplay(trace, heap, { samples: 37 });
		const plain = replay(trace, new Heap({ size: 1 << 20 }));
		assert.equal(report.peakLiveBytes, plain.peakLiveBytes);
		assert.equal(report.peakOp, plain.peakOp);
		assert.equal(report.footprintBytes, plain.footprintBytes);
		assert.equal(series.peakOp, report.peakOp);
		const n = series.op.length;
		assert.ok(n >= 37 && n <= 40, `${n} samples`);
		for (const k of ['liveBytes', 'usedBytes', 'footprintBytes', 'freeBytes', 'largestFreeBytes'] as const) assert.equal(series[k].length, n);
		assert.equal(series.op[0], 0);
		assert.equal(series.op[n - 1], trace.ops);
		for (let i = 1; i < n; i++) assert.ok(series.op[i] > series.op[i - 1], 'ops increase');
		for (let i = 1; i < n; i++) assert.ok(series.footprintBytes[i] >= series.footprintBytes[i - 1], 'footprint is a high-water mark');
		assert.equal(series.liveBytes[n - 1], report.liveBytes);
		assert.equal(series.footprintBytes[n - 1], report.footprintBytes);
		const s = heap.stats();
		assert.equal(series.usedBytes[n - 1], s.usedBytes);
		assert.equal(series.freeBytes[n - 1], s.freeBytes);
		assert.equal(requested.size, s.liveBlocks);
		const t = blockTotals(blockViews(heap, requested));
		assert.equal(t.payload, report.liveBytes, 'the map draws exactly the requested live bytes as payload');
	});

	test('stopAt: the heap at the peak holds the peak live bytes', async () => {
		const trace = await readTrace(synthTrace());
		const whole = replay(trace, new Heap({ size: 1 << 20 }));
		const heap = new Heap({ size: 1 << 20 });
		const { series, requested } = sampleReplay(trace, heap, { stopAt: whole.peakOp + 1, samples: 5 });
		assert.equal(series.liveBytes.at(-1), whole.peakLiveBytes);
		let sum = 0;
		for (const v of requested.values()) sum += v;
		assert.equal(sum, whole.peakLiveBytes);
	});

	test('replayToSvg: one well-formed document, map at the peak, peak sample on the timeline', async () => {
		const trace = await readTrace(synthTrace());
		const calls: number[] = [];
		const svg = replayToSvg(trace, 1 << 20, { samples: 50, at: 'peak', onProgress: (d, t) => calls.push(d / t) });
		const doc = parseXml(svg);
		assertUniqueIds(doc);
		assert.equal(findAll(doc, (e) => e.name === 'svg').length, 3, 'document + two panels');
		const whole = replay(trace, new Heap({ size: 1 << 20 }));
		const atPeak = new Heap({ size: 1 << 20 });
		replay(trace, atPeak, { stopAt: whole.peakOp + 1 });
		assertGeometry(doc, atPeak);
		const live = findAll(doc, (e) => e.attrs['data-state'] === 'allocated');
		assert.equal(live.length, atPeak.stats().liveBlocks);
		const livePts = findAll(doc, (e) => e.attrs['data-series'] === 'liveBytes')[0].attrs.points.split(' ');
		const sampled = sampleReplay(trace, new Heap({ size: 1 << 20 }), { samples: 50 }).series.op;
		const extra = sampled.includes(whole.peakOp + 1) ? 0 : 1;
		assert.equal(livePts.length, sampled.length + extra, 'the samples + the exact peak');
		assert.equal(findAll(doc, (e) => hasClass(e, 'marker'))[0].attrs['data-op'], String(whole.peakOp + 1));
		assert.ok(calls.length > 0 && calls.every((f) => f >= 0 && f <= 1));
	});

	test('replayToSvg progress: the fraction never goes down and ends at exactly 1, whichever moment is drawn', async () => {
		const trace = await readTrace(synthTrace());
		for (const at of ['footprint', 'peak', 'end'] as const) {
			const calls: [number, number][] = [];
			replayToSvg(trace, 1 << 20, { samples: 50, at, onProgress: (d, t) => calls.push([d, t]) });
			const fractions = calls.map(([d, t]) => d / t);
			for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i] >= fractions[i - 1], `${at}: progress went down at call ${i}`);
			const [done, total] = calls[calls.length - 1];
			assert.equal(done, total, `${at}: the last call reports everything done`);
		}
	});

	test('replayToSvg of a replay that runs out of memory draws the heap where it stopped', async () => {
		const trace = await readTrace('a 1 100\na 2 200\na 3 100000\nf 1\n');
		const doc = parseXml(replayToSvg(trace, 8192));
		assert.match(findAll(doc, (e) => e.name === 'title')[0].text, /out of memory at op 2/);
		assert.equal(findAll(doc, (e) => e.attrs['data-state'] === 'allocated').length, 2);
		assert.equal(findAll(doc, (e) => hasClass(e, 'marker'))[0].attrs['data-op'], '2');
	});

	test('renderReplaySvg stacks the two panels at the same width', () => {
		const { heap, requested } = patternHeap(9);
		const doc = parseXml(renderReplaySvg(heap, fakeSeries(10), requested, { map: { width: 700 } }));
		const panels = doc.children.filter((e) => e.name === 'svg');
		assert.equal(panels.length, 2);
		assert.deepEqual(
			panels.map((p) => p.attrs.width),
			['700', '700'],
		);
		assert.equal(Number(panels[1].attrs.y), Number(panels[0].attrs.height));
		assert.equal(Number(doc.attrs.height), Number(panels[0].attrs.height) + Number(panels[1].attrs.height));
	});
});

describe('tlsfBins', () => {
	test('bitmaps and list lengths agree with the free blocks', () => {
		for (const seed of [10, 11]) {
			const { heap } = patternHeap(seed);
			const bins = tlsfBins(heap);
			const s = heap.stats();
			assert.equal(
				bins.lists.reduce((n, l) => n + l.count, 0),
				s.freeBlocks,
			);
			const free = new Set([...heap.blocks()].filter((b) => b.free).map((b) => b.block));
			for (const l of bins.lists) {
				assert.ok((bins.slBitmaps[l.fl] >>> l.sl) & 1, `SL bit (${l.fl}, ${l.sl})`);
				assert.ok((bins.flBitmap >>> l.fl) & 1, `FL bit ${l.fl}`);
				for (const [i, b] of l.blocks.entries()) {
					assert.ok(free.has(b));
					assert.ok(l.sizes[i] >= l.minSize && l.sizes[i] < l.maxSize, `size ${l.sizes[i]} in [${l.minSize}, ${l.maxSize})`);
				}
			}
			let slBits = 0;
			for (const w of bins.slBitmaps) for (let x = w; x !== 0; x &= x - 1) slBits++;
			assert.equal(slBits, bins.lists.length, 'one SL bit per non-empty list');
			assert.ok(bins.usedFlCount >= 1 && bins.usedFlCount <= bins.flCount);
			for (const l of bins.lists) assert.ok(l.fl < bins.usedFlCount);
		}
	});
});

describe('the XML well-formedness check itself', () => {
	test('accepts well-formed documents and refuses broken ones', () => {
		const ok = parseXml('<?xml version="1.0"?>\n<a x="1" y=\'&lt;&#65;&#x42;\'><!-- c --><b/>t&amp;t<c></c></a>\n');
		assert.equal(ok.attrs.y, '<AB');
		assert.equal(ok.text, 't&t');
		assert.deepEqual(
			ok.children.map((c) => c.name),
			['b', 'c'],
		);
		for (const bad of [
			'<a>',
			'<a></b>',
			'<a><b></a></b>',
			'<a/><b/>',
			'<a x="1" x="2"/>',
			'<a x=1/>',
			'<a x="<"/>',
			'<a>&nbsp;</a>',
			'<a>a & b</a>',
			'<a>]]></a>',
			'text<a/>',
			'<a/>text',
			'<!DOCTYPE a><a/>',
			'<1a/>',
			'<a>&#0;</a>',
			'',
		]) {
			assert.throws(() => parseXml(bad), /^Error: xml: /, JSON.stringify(bad));
		}
	});
});
