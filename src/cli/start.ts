/**
 * start.ts: the `npm start` job. Replays a real program's allocation trace
 * through a fresh Heap and prints what it measured, the heap's stats and
 * check, and a text map of the heap at the end.
 *
 *   npm start                                  the bundled sqlite trace, 20 MiB heap
 *   npm start -- path/to/x.trace.gz --size 256 another trace, heap size in MiB
 *
 * Exit status 1 when an allocation failed or check() found violations.
 */
import { createReadStream } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Heap } from '../index.js';
import { formatInt } from '../render/svgkit.js';
import { renderText } from '../render/text.js';
import { type ReplayReport, type Trace, readTrace, replay } from '../trace/index.js';
import { colorOut, failureText, pct } from './format.js';

/** Command-line options, declared as data. */
const OPTIONS = {
	size: { type: 'string', default: '20', description: 'heap size in MiB' },
	width: { type: 'string', default: '64', description: 'heap map width in cells' },
	rows: { type: 'string', default: '8', description: 'heap map rows' },
	help: { type: 'boolean', default: false, description: 'print this help' },
} as const;

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_TRACE = fileURLToPath(new URL('../../traces/sqlite-index.trace.gz', import.meta.url));
const MiB = 1 << 20;

/** Bytes with a MiB figure beside them. */
const bytes = (n: number): string => `${formatInt(n)} B (${(n / MiB).toFixed(2)} MiB)`;

function usage(): string {
	const lines = Object.entries(OPTIONS).map(([k, o]) => `  --${k.padEnd(8)} ${o.description} (default ${o.default})`);
	return ['usage: npm start -- [trace.gz] [options]', ...lines].join('\n');
}

function printReplay(path: string, trace: Trace, readMs: number, r: ReplayReport): void {
	const c = trace.counts;
	console.log(`heapfit: replaying ${relative(REPO_ROOT, path) || path} (program ${trace.program ?? '?'})`);
	console.log(`  read           ${formatInt(trace.ops)} ops in ${readMs.toFixed(0)} ms`);
	console.log(
		`                 ${formatInt(c.malloc)} malloc, ${formatInt(c.calloc)} calloc, ${formatInt(c.memalign)} aligned, ` +
			`${formatInt(c.realloc)} realloc, ${formatInt(c.free)} free`,
	);
	console.log(`  replayed       ${formatInt(r.ops)} of ${formatInt(r.totalOps)} ops in ${r.elapsedMs.toFixed(1)} ms, ${r.nsPerOp.toFixed(1)} ns/op`);
	console.log(`  peak live      ${bytes(r.peakLiveBytes)}`);
	console.log(`  footprint      ${bytes(r.footprintBytes)}`);
	console.log(`  fragmentation  ${pct(r.fragmentation)}  (footprint / peak live − 1)`);
	if (r.failedAt) {
		console.log(`  FAILED         ${failureText(r.failedAt)}`);
	}
}

function printHeap(heap: Heap, title: string, width: number, rows: number): number {
	const s = heap.stats();
	console.log(`${title} (${bytes(s.regionBytes)} region)`);
	console.log(`  used           ${bytes(s.usedBytes)} in ${formatInt(s.liveBlocks)} blocks (peak ${bytes(s.peakUsedBytes)})`);
	console.log(`  free           ${bytes(s.freeBytes)} in ${formatInt(s.freeBlocks)} blocks, largest ${bytes(s.largestFreeBlock)}`);
	console.log(`  cached         ${bytes(s.cachedBytes)} in ${formatInt(s.cachedBlocks)} blocks (freed, waiting in the small-block cache)`);
	console.log(`  overhead       ${bytes(s.overheadBytes)} (${formatInt(s.metaBytes)} B fixed)`);
	console.log(`  external frag  ${pct(s.externalFragmentation)}`);
	const violations = heap.check();
	if (violations.length === 0) console.log('  check()        clean');
	else {
		console.log(`  check()        ${violations.length} violation(s):`);
		for (const v of violations.slice(0, 10)) console.log(`    ${v.rule} at ${v.at}: ${v.message}`);
	}
	console.log(renderText(heap, { width, rows, color: colorOut() }));
	return violations.length;
}

async function main(): Promise<number> {
	const { values, positionals } = parseArgs({ options: OPTIONS, allowPositionals: true });
	if (values.help) {
		console.log(usage());
		return 0;
	}
	const path = positionals[0] ?? DEFAULT_TRACE;
	const size = Number(values.size) * MiB;
	const t0 = performance.now();
	const trace = await readTrace(createReadStream(path));
	const readMs = performance.now() - t0;
	const heap = new Heap({ size });
	const report = replay(trace, heap);
	printReplay(path, trace, readMs, report);
	let violations = printHeap(heap, 'heap at the end', Number(values.width), Number(values.rows));
	if (report.peakOp >= 0 && report.failedAt === undefined) {
		// The same trace again, stopped where live bytes peaked: the fullest heap.
		const atPeak = new Heap({ size });
		replay(trace, atPeak, { stopAt: report.peakOp + 1 });
		console.log();
		violations += printHeap(atPeak, `heap at peak live bytes, after op ${formatInt(report.peakOp + 1)}`, Number(values.width), Number(values.rows));
	}
	return report.failedAt !== undefined || violations > 0 ? 1 : 0;
}

main().then(
	(code) => {
		process.exitCode = code;
	},
	(e: unknown) => {
		console.error(e instanceof Error ? `${e.name}: ${e.message}` : e);
		process.exitCode = 2;
	},
);
