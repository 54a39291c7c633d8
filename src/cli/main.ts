#!/usr/bin/env node
/**
 * main.ts: the `heapfit` command. A thin layer over the library: commands
 * and options are declared as data below; each command reads its input,
 * calls the library and prints.
 *
 *   heapfit replay FILE [--size BYTES] [--json] [--svg FILE]
 *   heapfit map FILE [--size BYTES] [--at peak|end] [--width N] [--rows N]
 *   heapfit bench [FILES…] [bench options]
 *
 * Exit status: 0 done, 1 bad input or usage (one line on stderr, no stack
 * trace), 2 the replay ran out of memory (reported with its op index).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { Heap, type HeapStats } from '../index.js';
import { MAX_REGION_END } from '../layout.js';
import { replayToSvg, renderText } from '../render/index.js';
import { formatInt } from '../render/svgkit.js';
import { type ReplayReport, type Trace, readTrace, replay } from '../trace/index.js';
import { colorOut, failureText, pct } from './format.js';

/** A user-facing failure: printed as one line, exit status 1. */
class UsageError extends Error {}

type OptionSpec = { type: 'string' | 'boolean'; description: string; default?: string | boolean };

/** Every command, its arguments and its options, as data. */
const COMMANDS = {
	replay: {
		args: 'FILE',
		summary: 'replay an alloc-trace (plain or .gz) through a heap and report speed and fragmentation',
		options: {
			size: { type: 'string', description: 'heap region size in bytes (k/M/G suffixes allowed); default: from the trace' },
			json: { type: 'boolean', description: 'print exactly one JSON object instead of the table', default: false },
			svg: { type: 'string', description: 'also write a heap map at peak and a timeline to this SVG file' },
		},
	},
	map: {
		args: 'FILE',
		summary: 'replay a trace and print a text heap map of the heap at its peak (or at the end)',
		options: {
			size: { type: 'string', description: 'heap region size in bytes; default: from the trace' },
			at: { type: 'string', description: "'peak' (live bytes at their highest) or 'end'", default: 'peak' },
			width: { type: 'string', description: 'cells per row', default: '64' },
			rows: { type: 'string', description: 'rows', default: '16' },
		},
	},
	bench: {
		args: '[FILES…]',
		summary: 'run the benchmark suite in bench/ (repository checkout only) and print its tables',
		options: {},
	},
} as const satisfies Record<string, { args: string; summary: string; options: Record<string, OptionSpec> }>;

type CommandName = keyof typeof COMMANDS;

function usage(): string {
	const lines = ['usage: heapfit <command> [options]', ''];
	for (const [name, c] of Object.entries(COMMANDS)) {
		lines.push(`  heapfit ${name} ${c.args}`, `      ${c.summary}`);
		for (const [opt, o] of Object.entries(c.options) as [string, OptionSpec][]) {
			const def = o.default === undefined ? '' : ` (default ${String(o.default)})`;
			lines.push(`      --${opt.padEnd(6)} ${o.description}${def}`);
		}
	}
	return lines.join('\n');
}

/** "64M" → 67108864. */
function parseBytes(text: string): number {
	const m = /^(\d+(?:\.\d+)?)\s*([kKmMgG]?)i?[bB]?$/.exec(text.trim());
	if (m === null) throw new UsageError(`--size: '${text}' is not a byte count (e.g. 67108864, 64M, 1G)`);
	const mult = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
	const n = Math.floor(Number(m[1]) * mult);
	if (n > MAX_REGION_END) throw new UsageError(`--size: ${n} is above the largest region (${MAX_REGION_END} bytes)`);
	return n;
}

/** A region large enough for the trace: 1.5 × its peak, rounded up to a power of two. */
function autoSize(trace: Trace): number {
	const want = Math.max(2 ** 20, trace.peakLiveBytes * 1.5 + trace.largestRequest * 2);
	return Math.min(2 ** Math.ceil(Math.log2(want)), MAX_REGION_END);
}

async function load(file: string | undefined): Promise<Trace> {
	if (file === undefined) throw new UsageError('missing FILE (an alloc-trace, plain or .gz)');
	if (!existsSync(file)) throw new UsageError(`${file}: no such file`);
	const trace = await readTrace(createReadStream(file));
	if (trace.ops === 0 && trace.header === null) throw new UsageError(`${file}: empty, not an alloc-trace`);
	return trace;
}

/** Replays with a progress bar on stderr when it is a terminal and the trace is long. */
function replayWithProgress(trace: Trace, heap: Heap, quiet: boolean): ReplayReport {
	if (quiet || !process.stderr.isTTY || trace.ops < 200_000) return replay(trace, heap);
	const bar = new cliProgress.SingleBar(
		{ stream: process.stderr, format: 'replay [{bar}] {percentage}% | {value}/{total} ops', hideCursor: true },
		cliProgress.Presets.shades_classic,
	);
	bar.start(trace.ops, 0);
	try {
		return replay(trace, heap, { onProgress: (done) => bar.update(done), progressEvery: 1 << 18 });
	} finally {
		bar.stop();
	}
}


function table(rows: [string, string][]): string {
	const w = Math.max(...rows.map(([k]) => k.length));
	return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

function summary(file: string, trace: Trace, size: number, r: ReplayReport, s: HeapStats): string {
	const rows: [string, string][] = [
		['trace', `${file} (program ${trace.program ?? '?'})`],
		['ops', `${formatInt(r.ops)} of ${formatInt(r.totalOps)}`],
		['heap region', `${formatInt(size)} B`],
		['peak live bytes', `${formatInt(r.peakLiveBytes)} B`],
		['footprint', `${formatInt(r.footprintBytes)} B`],
		['fragmentation', `${pct(r.fragmentation)}  (footprint / peak live − 1)`],
		['time per op', `${r.nsPerOp.toFixed(1)} ns`],
		['used at the end', `${formatInt(s.usedBytes)} B in ${formatInt(s.liveBlocks)} blocks`],
		['free at the end', `${formatInt(s.freeBytes)} B in ${formatInt(s.freeBlocks)} blocks, largest ${formatInt(s.largestFreeBlock)} B`],
		['cached at the end', `${formatInt(s.cachedBytes)} B in ${formatInt(s.cachedBlocks)} blocks (freed, in the small-block cache)`],
		['external frag', pct(s.externalFragmentation)],
	];
	if (r.failedAt) {
		rows.push(['FAILED', failureText(r.failedAt)]);
	}
	return table(rows);
}

async function cmdReplay(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
	const file = positionals[0];
	const trace = await load(file);
	const size = typeof values.size === 'string' ? parseBytes(values.size) : autoSize(trace);
	const heap = new Heap({ size });
	const r = replayWithProgress(trace, heap, values.json === true);
	const s = heap.stats();
	if (typeof values.svg === 'string') writeFileSync(values.svg, replayToSvg(trace, size));
	if (values.json === true) {
		console.log(JSON.stringify({ file, program: trace.program, heapSize: size, ...r, stats: s }));
	} else {
		console.log(summary(file as string, trace, size, r, s));
	}
	return r.failedAt === undefined ? 0 : 2;
}

async function cmdMap(values: Record<string, string | boolean | undefined>, positionals: string[]): Promise<number> {
	const trace = await load(positionals[0]);
	const size = typeof values.size === 'string' ? parseBytes(values.size) : autoSize(trace);
	const at = values.at;
	if (at !== 'peak' && at !== 'end') throw new UsageError(`--at: expected 'peak' or 'end', got '${String(at)}'`);
	const width = Number(values.width);
	const rows = Number(values.rows);
	if (!Number.isInteger(width) || width < 1 || !Number.isInteger(rows) || rows < 1) {
		throw new UsageError('--width and --rows must be positive integers');
	}
	// The whole trace leaves the heap at its end; the peak needs its op first, then a replay up to it.
	let heap = new Heap({ size });
	let r = replay(trace, heap);
	if (at === 'peak' && r.peakOp >= 0) {
		heap = new Heap({ size });
		r = replay(trace, heap, { stopAt: r.peakOp + 1 });
	}
	console.log(`${positionals[0]}: heap ${at === 'peak' ? `at peak live bytes (after op ${formatInt(r.ops)})` : 'at the end'}`);
	console.log(renderText(heap, { width, rows, color: colorOut() }));
	return r.failedAt === undefined ? 0 : 2;
}

function cmdBench(argv: string[]): number {
	const runner = fileURLToPath(new URL('../../bench/run.ts', import.meta.url));
	if (!existsSync(runner)) throw new UsageError('bench: the benchmark suite ships with the repository checkout (bench/run.ts), not the package');
	const res = spawnSync(process.execPath, ['--import', 'tsx', runner, ...argv], { stdio: 'inherit' });
	return res.status ?? 1;
}

async function main(argv: string[]): Promise<number> {
	const [name, ...rest] = argv;
	if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
		console.log(usage());
		return name === undefined ? 1 : 0;
	}
	if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(`unknown command '${name}' (try: heapfit help)`);
	const command = name as CommandName;
	if (command === 'bench') return cmdBench(rest);
	let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
	try {
		const options: Record<string, OptionSpec> = COMMANDS[command].options;
		parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true }) as typeof parsed;
	} catch (e) {
		throw new UsageError((e as Error).message);
	}
	return command === 'replay' ? cmdReplay(parsed.values, parsed.positionals) : cmdMap(parsed.values, parsed.positionals);
}

main(process.argv.slice(2)).then(
	(code) => {
		process.exitCode = code;
	},
	(e: unknown) => {
		const msg = e instanceof Error ? e.message : String(e);
		process.stderr.write(`heapfit: ${msg.split('\n')[0]}\n`);
		process.exitCode = 1;
	},
);
