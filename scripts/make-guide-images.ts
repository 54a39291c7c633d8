/**
 * make-guide-images.ts: draws the pictures of docs/guide.md with heapfit
 * itself (`npm run docs:images`). Every picture is a real heap, built by the
 * calls listed next to it, drawn by `renderSvg` / `renderTimelineSvg`; the
 * output is deterministic, so a diff in docs/img/ means the drawing or the
 * allocator changed.
 */
import { createReadStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Heap } from '../src/index.js';
import { renderSvg, renderTimelineSvg, sampleReplay } from '../src/render/index.js';
import type { SvgMapOptions } from '../src/render/svg.js';
import { readTrace } from '../src/trace/index.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = join(ROOT, 'docs', 'img');
const WIDTH = 860;

/** A small heap whose blocks area is a few hundred bytes, and the requested size of each live block. */
class Demo {
	readonly heap = new Heap({ size: 4096 });
	readonly requested = new Map<number, number>();
	malloc(n: number): number {
		const p = this.heap.malloc(n);
		if (p === 0) throw new Error(`guide: malloc(${n}) failed`);
		this.requested.set(p, n);
		return p;
	}
	aligned(align: number, n: number): number {
		const p = this.heap.alignedAlloc(align, n);
		if (p === 0) throw new Error(`guide: alignedAlloc(${align}, ${n}) failed`);
		this.requested.set(p, n);
		return p;
	}
	free(p: number): void {
		this.heap.free(p);
		this.requested.delete(p);
	}
	/** The heap drawn in one row (two for a larger heap). */
	svg(title: string, options: SvgMapOptions = {}): string {
		return renderSvg(this.heap, { width: WIDTH, rows: 1, rowHeight: 34, requested: this.requested, title, ...options });
	}
}

const written: string[] = [];
function write(name: string, svg: string): void {
	writeFileSync(join(OUT, name), svg);
	written.push(`docs/img/${name} (${(svg.length / 1024).toFixed(1)} KiB)`);
}

async function main(): Promise<void> {
	mkdirSync(OUT, { recursive: true });

	// Headers and internal fragmentation: five requests, five block sizes.
	{
		const d = new Demo();
		for (const n of [1, 12, 13, 24, 40, 100]) d.malloc(n);
		write('headers.svg', d.svg('malloc(1), malloc(12), malloc(13), malloc(24), malloc(40), malloc(100)'));
	}

	// Alignment: a gap in front, a trailer at the end.
	{
		const d = new Demo();
		d.malloc(20);
		d.aligned(128, 40);
		d.aligned(256, 24);
		write('alignment.svg', d.svg('malloc(20), alignedAlloc(128, 40), alignedAlloc(256, 24)'));
	}

	// Splitting: one free block cut in two by each malloc.
	{
		const d = new Demo();
		write('split-1.svg', d.svg('1. a fresh heap: one free block'));
		d.malloc(100);
		write('split-2.svg', d.svg('2. malloc(100): the free block is split into a 104 B block and the rest'));
		d.malloc(40);
		write('split-3.svg', d.svg('3. malloc(40): the rest is split again'));
	}

	// Coalescing: three free blocks become one.
	{
		const d = new Demo();
		const [, b, c, e] = [d.malloc(40), d.malloc(40), d.malloc(40), d.malloc(40), d.malloc(40)];
		write('coalesce-1.svg', d.svg('1. five blocks of 40 B'));
		d.free(b);
		d.free(e);
		write('coalesce-2.svg', d.svg('2. free the 2nd and the 4th: two free blocks between allocated ones'));
		d.free(c);
		write('coalesce-3.svg', d.svg('3. free the 3rd: it merges with both neighbours into one free block'));
	}

	// External fragmentation: half the small blocks freed, no room for a bigger one.
	{
		const d = new Demo();
		const ps: number[] = [];
		for (;;) {
			const p = d.heap.malloc(28);
			if (p === 0) break;
			d.requested.set(p, 28);
			ps.push(p);
		}
		for (let i = 0; i < ps.length; i += 2) d.free(ps[i]);
		const s = d.heap.stats();
		const fails = d.heap.malloc(60) === 0;
		write(
			'external.svg',
			d.svg(`every other 32 B block freed: ${s.freeBytes} B free, yet malloc(60) ${fails ? 'returns 0' : 'succeeds'}`),
		);
	}

	// A real program: the sqlite trace over time.
	{
		const trace = await readTrace(createReadStream(join(ROOT, 'traces', 'sqlite-index.trace.gz')));
		const { series } = sampleReplay(trace, new Heap({ size: 20 << 20 }), { samples: 300 });
		write('sqlite-timeline.svg', renderTimelineSvg(series, { width: WIDTH, title: 'sqlite building an index: 411,428 calls through a 20 MiB heap' }));
		const fine = sampleReplay(trace, new Heap({ size: 20 << 20 }), { samples: 3000 }).series;
		const from = 355_000;
		write('sqlite-timeline-end.svg', renderTimelineSvg(fine, { width: WIDTH, fromOp: from, title: `the same, from op ${from.toLocaleString('en-US')} on` }));
	}

	console.log(`wrote:\n  ${written.join('\n  ')}`);
}

main().catch((e: unknown) => {
	console.error(e);
	process.exitCode = 1;
});
