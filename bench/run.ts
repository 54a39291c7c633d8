/**
 * run.ts: the benchmark driver (`npm run bench`).
 *
 *   node --import tsx bench/run.ts [--runs N] [--only heapfit,native,as,thing,bump]
 *        [--workloads traces,efficiency,random,pairs] [options] [trace files...]
 *
 * Every measurement (one allocator × one workload item × one run) runs in
 * its own child process (worker.ts, or the native replayer), one at a time,
 * with the allocators taking turns (their order rotates from run to run),
 * and each workload item's runs are done together so that the ratios
 * compare measurements taken close in time. A child that outlives
 * --timeout is killed and reported as "timeout"; a measurement that timed
 * out, failed or was skipped is not repeated in later runs.
 *
 * Output: markdown tables on stdout, and results.md, results.json and SVG
 * charts in --out (default bench/results/).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, createReadStream, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, parseCli, rotation, runMeta } from './lib/cli.js';
import { createGunzip } from 'node:zlib';
import { AS_FLAGS, asVersion, compileAs } from './lib/as.js';
import { type Job, type Measurement, RESULT_PREFIX } from './lib/jobs.js';
import { type Cell, type Results, type Row, charts, markdownReport } from './lib/report.js';
import { type JsPeer, PEERS, PEER_NAMES, type Peer } from './lib/targets.js';
import { pairsArenaBytes } from './lib/workloads.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH, '..');
const CACHE = join(BENCH, '.cache');
const WORKER = join(BENCH, 'worker.ts');
const MiB = 1 << 20;
const WORKLOADS = ['traces', 'efficiency', 'random', 'pairs'] as const;
type Workload = (typeof WORKLOADS)[number];

const OPTIONS = {
	runs: { type: 'string', default: '3', description: 'runs per measurement; the best is kept' },
	only: { type: 'string', default: PEERS.join(','), description: 'allocators to measure' },
	workloads: { type: 'string', default: WORKLOADS.join(','), description: 'workloads to run' },
	timeout: { type: 'string', default: '60', description: 'seconds before a measurement process is killed' },
	seed: { type: 'string', default: '1', description: 'base seed of every random workload' },
	trials: { type: 'string', default: '5', description: 'heap-efficiency trials (seeds seed..seed+trials−1)' },
	arena: { type: 'string', default: '128', description: 'heap-efficiency arena, MiB' },
	'thing-arena': { type: 'string', default: '128', description: 'heap-efficiency arena for @thi.ng/malloc, MiB' },
	'trace-arena': { type: 'string', default: '0', description: 'arena for trace replays, MiB (0: power of two ≥ 4 × peak live, at least 64)' },
	'random-ops': { type: 'string', default: '1000000', description: 'timed actions per random-actions run' },
	'random-sizes': { type: 'string', default: '200,1000,10000,30000', description: 'max sizes for random actions' },
	'random-arena': { type: 'string', default: '256', description: 'arena for random actions, MiB' },
	live: { type: 'string', default: '1000,10000,100000,1000000', description: 'live-block counts for free+malloc pairs' },
	pairs: { type: 'string', default: '200000', description: 'timed free+malloc pairs per run' },
	'traces-dir': { type: 'string', default: resolve(REPO, '../shared/traces'), description: 'folder of *.trace.gz' },
	out: { type: 'string', default: join(BENCH, 'results'), description: 'output folder' },
	from: { type: 'string', default: '', description: 'measure nothing: rewrite results.md and the charts from this results.json' },
	help: { type: 'boolean', default: false, description: 'print this help' },
} as const;

const { opt, positionals, posInt, list, choices } = parseCli('node --import tsx bench/run.ts [options] [trace files...]', OPTIONS, true);

const runs = Math.max(1, posInt('runs', opt.runs));
const timeoutS = posInt('timeout', opt.timeout);
const seed = posInt('seed', opt.seed);
const trials = Math.max(1, posInt('trials', opt.trials));
const effArena = posInt('arena', opt.arena) * MiB;
const thingArena = posInt('thing-arena', opt['thing-arena']) * MiB;
const traceArena = posInt('trace-arena', opt['trace-arena']) * MiB;
const randomOps = posInt('random-ops', opt['random-ops']);
const randomSizes = list(opt['random-sizes']).map((s) => posInt('random-sizes', s));
const randomArena = posInt('random-arena', opt['random-arena']) * MiB;
const liveCounts = list(opt.live).map((s) => posInt('live', s));
const pairsCount = posInt('pairs', opt.pairs);

const only = choices('only', 'allocator', opt.only, PEERS);
let peers = PEERS.filter((p) => only.includes(p)) as Peer[];
const workloads = choices('workloads', 'workload', opt.workloads, WORKLOADS);
const has = (w: Workload): boolean => workloads.includes(w);
const notes: string[] = [];

if (opt.from !== '') {
	writeOutputs(JSON.parse(readFileSync(opt.from, 'utf8')) as Results);
	process.exit(0);
}

// ─── Setup: the AssemblyScript module and the native replayer ──────────

let wasm: string | null = null;
if (peers.includes('as')) {
	try {
		log('compiling the AssemblyScript TLSF module (asc) …');
		wasm = await compileAs(CACHE);
	} catch (e) {
		peers = peers.filter((p) => p !== 'as');
		notes.push(`AssemblyScript TLSF skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)} (is the assemblyscript dev dependency installed?)`);
	}
}

let nativeBin: string | null = null;
let gccVersion = '';
if (peers.includes('native')) {
	if (!has('traces')) {
		peers = peers.filter((p) => p !== 'native');
	} else {
		try {
			gccVersion = execFileSync('gcc', ['-dumpfullversion'], { encoding: 'utf8' }).trim();
			mkdirSync(CACHE, { recursive: true });
			const bin = join(CACHE, 'replay');
			log('compiling the native replayer (gcc -O2) …');
			execFileSync('gcc', ['-O2', '-o', bin, join(BENCH, 'native', 'replay.c')], { stdio: ['ignore', 'inherit', 'inherit'] });
			nativeBin = bin;
		} catch (e) {
			peers = peers.filter((p) => p !== 'native');
			notes.push(`C library malloc skipped: no working gcc (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
		}
	}
}
const jsPeers = peers.filter((p): p is JsPeer => p !== 'native');

// ─── Traces ─────────────────────────────────────────────────────────────

const traceFiles: string[] = [];
if (has('traces')) {
	const dir = opt['traces-dir'];
	if (existsSync(dir)) {
		for (const f of readdirSync(dir).sort()) if (f.endsWith('.trace.gz')) traceFiles.push(join(dir, f));
	} else {
		const msg = `trace folder ${dir} not found: shared traces skipped`;
		log(msg);
		notes.push(msg);
	}
	for (const p of positionals) {
		if (existsSync(p)) traceFiles.push(resolve(p));
		else {
			log(`trace ${p} not found: skipped`);
			notes.push(`trace ${p} not found: skipped`);
		}
	}
}

// ─── Running one measurement in a child process ────────────────────────

/** Kills the child's whole process group (it was started detached, as its leader). */
function killGroup(child: ChildProcess): void {
	if (child.pid === undefined) return;
	try {
		process.kill(-child.pid, 'SIGKILL');
	} catch {
		child.kill('SIGKILL');
	}
}

/** Runs `cmd args` with a timeout; resolves with the parsed result line (or a timeout/error measurement). */
function runChild(cmd: string, args: string[], stdin: NodeJS.ReadableStream | null, parse: (stdout: string) => Measurement): Promise<Measurement> {
	return new Promise((done) => {
		const t0 = performance.now();
		const child = spawn(cmd, args, { cwd: REPO, stdio: [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'], detached: true });
		let out = '';
		let err = '';
		let timedOut = false;
		child.stdout?.on('data', (d: Buffer) => {
			out += d.toString();
		});
		child.stderr?.on('data', (d: Buffer) => {
			err += d.toString();
			if (err.length > 20000) err = err.slice(-10000);
		});
		if (stdin && child.stdin) {
			child.stdin.on('error', () => {}); // EPIPE when the child dies first
			stdin.on('error', () => child.stdin?.destroy());
			stdin.pipe(child.stdin);
		}
		const timer = setTimeout(() => {
			timedOut = true;
			killGroup(child);
		}, timeoutS * 1000);
		child.on('close', (code, signal) => {
			clearTimeout(timer);
			const wallMs = performance.now() - t0;
			if (timedOut) return done({ status: 'timeout', note: `did not finish in ${timeoutS} s`, wallMs });
			try {
				const m = parse(out);
				m.wallMs = wallMs;
				done(m);
			} catch (e) {
				const why = e instanceof Error ? e.message : String(e);
				const tail = err.trim().split('\n').filter((l) => l.trim() !== '' && !l.startsWith('Node.js v')).slice(-6).join(' / ');
				done({ status: 'error', note: `exit ${code ?? signal}: ${why}; stderr: ${tail}`, wallMs });
			}
		});
	});
}

/** Runs a job in a worker process; a worker that broke (status error) is tried once more. */
async function runJs(job: Job): Promise<Measurement> {
	const m = await runJsOnce(job);
	if (m.status !== 'error') return m;
	log(`    (worker error, trying once more: ${m.note ?? ''})`);
	const again = await runJsOnce(job);
	if (again.status !== 'error') again.retriedAfter = m.note;
	return again;
}

function runJsOnce(job: Job): Promise<Measurement> {
	return runChild(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(job)], null, (out) => {
		const line = out.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
		if (line === undefined) throw new Error('no result line');
		return JSON.parse(line.slice(RESULT_PREFIX.length)) as Measurement;
	});
}

function runNative(path: string, noMmap: boolean): Promise<Measurement> {
	const bin = nativeBin as string;
	const head = Buffer.alloc(2);
	const fd = openSync(path, 'r');
	try {
		readSync(fd, head, 0, 2, 0);
	} finally {
		closeSync(fd);
	}
	const raw = createReadStream(path);
	const text = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
	return runChild(bin, noMmap ? ['--no-mmap'] : [], text, (out) => {
		const m = JSON.parse(out.trim().split('\n').pop() as string) as Measurement;
		m.status = m.failedAt ? 'failed' : 'ok';
		return m;
	});
}

const FINAL: Measurement['status'][] = ['timeout', 'failed', 'skipped'];

function describe(m: Measurement): string {
	if (m.status !== 'ok') return `${m.status}${m.note ? ` (${m.note})` : ''}`;
	if (m.efficiency !== undefined) return `efficiency ${(m.efficiency * 100).toFixed(2)}%`;
	const f = m.fragmentation !== undefined ? `, frag ${(m.fragmentation * 100).toFixed(2)}%` : '';
	return `${(m.nsPerOp ?? 0).toFixed(1)} ns${f}`;
}

/** Aggregates the runs of one cell. */
function cellOf(ms: Measurement[]): Cell {
	const ok = ms.filter((m) => m.status === 'ok' && m.nsPerOp !== undefined);
	const cell: Cell = { status: ok.length > 0 ? 'ok' : (ms[ms.length - 1]?.status ?? 'error'), runs: ms };
	const bad = ms.find((m) => m.status !== 'ok');
	if (bad?.note) cell.note = bad.note;
	if (ok.length > 0) {
		const best = ok.reduce((a, b) => ((b.nsPerOp as number) < (a.nsPerOp as number) ? b : a));
		const sorted = ok.map((m) => m.nsPerOp as number).sort((a, b) => a - b);
		cell.nsPerOp = best.nsPerOp;
		cell.medianNsPerOp = sorted[Math.floor(sorted.length / 2)];
		cell.fragmentation = best.fragmentation;
		cell.footprintBytes = best.footprintBytes;
		cell.arenaBytes = best.arenaBytes;
		cell.checkViolations = best.checkViolations;
	}
	return cell;
}

/** Runs one workload item: `runs` rounds, peers rotating; a final status stops a peer's repeats. */
async function measureItem<P extends Peer>(
	label: string,
	itemPeers: P[],
	job: (p: P) => Promise<Measurement>,
): Promise<Partial<Record<Peer, Measurement[]>>> {
	const got: Partial<Record<Peer, Measurement[]>> = {};
	for (let r = 0; r < runs; r++) {
		for (const p of rotation(itemPeers, r)) {
			const prev: Measurement[] = got[p] ?? [];
			if (prev.some((m) => FINAL.includes(m.status))) continue;
			const m = await job(p);
			prev.push(m);
			got[p] = prev;
			log(`  ${label} · run ${r + 1}/${runs} · ${PEER_NAMES[p]}: ${describe(m)}`);
		}
	}
	return got;
}

// ─── The workloads ──────────────────────────────────────────────────────

const started = performance.now();
// Spelled out so that results.json keeps its key order (memoryGiB and versions sit between the shared fields).
const { date, node, v8, cpu, cores, platform, loadavgStart, heapfitCommit, command } = runMeta('node --import tsx bench/run.ts');
const results: Results = {
	meta: { date, node, v8, cpu, cores, memoryGiB: Math.round(os.totalmem() / 2 ** 30), platform, loadavgStart, heapfitCommit, versions: versions(), command },
	options: {
		runs,
		timeout: timeoutS,
		seed,
		trials,
		effArenaMiB: effArena / MiB,
		thingArenaMiB: thingArena / MiB,
		traceArenaMiB: traceArena / MiB,
		randomOps,
		randomSizes,
		randomArenaMiB: randomArena / MiB,
		live: liveCounts,
		pairs: pairsCount,
		pairsMinSize: 16,
		pairsMaxSize: 256,
		traces: traceFiles.map((f) => relative(REPO, f)),
	},
	peers,
	workloads: {},
	notes,
};

function versions(): Record<string, string> {
	const v: Record<string, string> = {};
	try {
		v['@thi.ng/malloc'] = (JSON.parse(readFileSync(join(REPO, 'node_modules/@thi.ng/malloc/package.json'), 'utf8')) as { version: string }).version;
	} catch {
		/* not installed */
	}
	const as = asVersion();
	if (as) v.assemblyscript = `${as} (asc ${AS_FLAGS.join(' ')})`;
	return v;
}

if (has('traces')) {
	const rows: Row[] = [];
	const tracePeers = peers;
	for (const path of traceFiles) {
		const name = path.split('/').pop()?.replace(/\.trace(\.gz)?$/, '') ?? path;
		log(`trace ${name}`);
		const got = await measureItem(name, tracePeers, (p) =>
			p === 'native' ? runNative(path, false) : runJs({ workload: 'traces', peer: p, wasm, path, arenaBytes: traceArena }),
		);
		const row: Row = { key: name, label: name, info: {}, cells: {} };
		for (const p of tracePeers) {
			const ms = got[p];
			if (ms === undefined) continue;
			const cell = cellOf(ms);
			if (p === 'native' && cell.status === 'ok') {
				// The timed runs use glibc's defaults, so blocks ≥ 128 KiB are mmapped far from
				// the heap and their ptr+size span means nothing: footprint comes from one more
				// run with M_MMAP_THRESHOLD at its 32 MiB maximum (all blocks in the brk heap).
				const fm = await runNative(path, true);
				log(`  ${name} · footprint run (M_MMAP_THRESHOLD = 32 MiB) · ${PEER_NAMES[p]}: ${describe(fm)}`);
				ms.push({ ...fm, footprintRunOnly: true });
				cell.fragmentation = fm.fragmentation;
				cell.footprintBytes = fm.footprintBytes;
				cell.runs = ms;
			}
			row.cells[p] = cell;
		}
		const any = Object.values(got)
			.flat()
			.find((m) => m?.totalOps !== undefined && m.peakLiveBytes !== undefined && m.status === 'ok');
		if (any) row.info = { ops: any.totalOps as number, peakLiveBytes: any.peakLiveBytes as number };
		rows.push(row);
	}
	results.workloads.traces = rows;
	notes.push(
		'Traces: JS peers replay through src/trace replay() over a fixed arena (power of two ≥ 4 × peak live, at least 64 MiB) made before the clock starts, after an untimed warm-up replay of the whole trace (at most its first 1,000,000 ops) through a throwaway allocator of the same kind; calloc ops call each peer\'s zeroing calloc. frag = footprint ÷ peak live − 1, footprint = max(ptr + size) − min(ptr).',
		'C malloc: bench/native/replay.c (gcc -O2) reads the decompressed trace from stdin, decodes it into arrays (mmap, not malloc) and times only the op loop with clock_gettime. Its ns/op comes from runs with glibc defaults; its frag from one extra run with M_MMAP_THRESHOLD = 32 MiB so that every block is in the brk heap (with defaults, blocks ≥ 128 KiB are mmapped far away and the span means nothing). It has no JS call overhead: compare it with the bump row too.',
		'bump: allocates the next 8-aligned bytes and never frees (realloc = a new block, no copy): the cost of the replay loop itself, the floor for every JS peer. Its frag is not meaningful and not shown.',
	);
}

const effPeers = jsPeers;
if (has('efficiency') && effPeers.length > 0) {
	log('heap efficiency');
	const got: Partial<Record<Peer, Measurement[]>> = {};
	for (let t = 0; t < trials; t++) {
		for (const p of rotation(effPeers, t)) {
			const arena = p === 'thing' ? thingArena : effArena;
			const m = await runJs({ workload: 'efficiency', peer: p, wasm, arenaBytes: arena, seed: seed + t, maxAlloc: 10000, reallocMax: 100000, maxActions: 50_000_000 });
			(got[p] ??= []).push(m);
			log(`  efficiency · trial ${t + 1}/${trials} (seed ${seed + t}) · ${PEER_NAMES[p]}: ${describe(m)}`);
		}
	}
	const row: Row = { key: 'efficiency', label: `arena ${effArena / MiB} MiB${thingArena !== effArena ? ` (thi.ng ${thingArena / MiB} MiB)` : ''}, ${trials} trials`, info: {}, cells: {} };
	for (const p of effPeers) {
		const ms = got[p] ?? [];
		const ok = ms.filter((m) => m.status === 'ok' && m.efficiency !== undefined);
		const cell: Cell = { status: ok.length === ms.length ? 'ok' : (ms.find((m) => m.status !== 'ok')?.status ?? 'error'), runs: ms };
		const bad = ms.find((m) => m.status !== 'ok');
		if (bad?.note) cell.note = bad.note;
		if (ok.length === ms.length && ok.length > 0) {
			const es = ok.map((m) => m.efficiency as number);
			cell.efficiency = es.reduce((a, b) => a + b, 0) / es.length;
			cell.efficiencyMin = Math.min(...es);
			cell.efficiencyMax = Math.max(...es);
		}
		cell.arenaBytes = ms[0]?.arenaBytes;
		row.cells[p] = cell;
	}
	results.workloads.efficiency = [row];
	notes.push(
		"Heap efficiency: talc's heap_efficiency.rs without its alignments (all requests 8-aligned): random actions in a fixed arena until the first failure — 50% malloc of U[4, U[16, 10000)), 10% free a random live block, 40% realloc a random live block to U[1, 100000) — score = live requested bytes ÷ arena bytes at that failure, mean over the trials (seeds seed, seed+1, …; the same seeds for every allocator). Arena = the whole region given to the allocator: heapfit's Heap size (metadata included); for AssemblyScript the module's whole linear memory (imported, initial = maximum = arena pages, so TLSF cannot grow it: the failed grow traps and the wrapper returns 0; its static data and TLSF root are inside); for @thi.ng/malloc the MemPool's ArrayBuffer; for bump the arena it may hand out.",
	);
}

if (has('random') && jsPeers.length > 0) {
	const rows: Row[] = [];
	for (const max of randomSizes) {
		log(`random actions, max size ${max}`);
		const got = await measureItem(`random ${max}`, jsPeers, (p) =>
			runJs({ workload: 'random', peer: p, wasm, arenaBytes: randomArena, maxSize: max, ops: randomOps, warmupOps: Math.min(100_000, randomOps), seed, minLive: 300, reallocMulti: 3 }),
		);
		const row: Row = { key: String(max), label: `${max.toLocaleString('en-US')} B`, info: {}, cells: {} };
		for (const p of jsPeers) if (got[p]) row.cells[p] = cellOf(got[p] as Measurement[]);
		rows.push(row);
	}
	results.workloads.random = rows;
	notes.push(
		"Random actions: talc's random_actions.rs mix with a fixed action count instead of a fixed time: 1/7 realloc a random live block to U[1, 3 × max), 3/7 malloc U[4, U[16, max)), 3/7 free a random live block (malloc instead while fewer than 300 are live), after an untimed warm-up pass. The heap-efficiency mix (50% malloc / 10% free / 40% realloc to 100 KB) is not used for throughput: it grows the live set by 0.4 blocks per action and fills any arena within ~10⁴ actions, so it cannot run a fixed count without failures. All draws are made before the clock starts; the timed loop pays the same live-list bookkeeping for every allocator (the bump row shows it).",
	);
}

if (has('pairs') && jsPeers.length > 0) {
	const rows: Row[] = [];
	const gaveUp = new Set<Peer>();
	for (const live of liveCounts) {
		log(`free+malloc pairs, ${live} live blocks`);
		const itemPeers = jsPeers.filter((p) => !gaveUp.has(p));
		const got = await measureItem(`pairs ${live}`, itemPeers, (p) =>
			runJs({ workload: 'pairs', peer: p, wasm, arenaBytes: pairsArenaBytes(live), live, pairs: pairsCount, warmupPairs: Math.max(50_000, Math.floor(pairsCount / 4)), seed, minSize: 16, maxSize: 256 }),
		);
		const row: Row = { key: String(live), label: live.toLocaleString('en-US'), info: {}, cells: {} };
		for (const p of jsPeers) {
			const ms = got[p];
			if (ms) {
				row.cells[p] = cellOf(ms);
				if (ms.some((m) => m.status === 'timeout')) gaveUp.add(p);
			} else if (gaveUp.has(p)) {
				row.cells[p] = { status: 'skipped', note: 'timed out at a smaller live count', runs: [] };
			}
		}
		rows.push(row);
	}
	results.workloads.pairs = rows;
	notes.push(
		`free+malloc pairs: fill the heap with N blocks of U[16, 256] bytes, run ${Math.max(50_000, Math.floor(pairsCount / 4))} untimed pairs (so that the JIT has optimised the loop), then time ${pairsCount} pairs of (free a random live block, malloc a new U[16, 256] size in its slot). An allocator that times out at one N is not run at larger N.`,
	);
}

// ─── Report ─────────────────────────────────────────────────────────────

results.meta.loadavgEnd = os.loadavg();
results.meta.durationS = (performance.now() - started) / 1000;
if (gccVersion) results.meta.versions.gcc = gccVersion;
const nativeRun = (results.workloads.traces ?? []).flatMap((r) => r.cells.native?.runs ?? []).find((m) => typeof m.libc === 'string');
if (nativeRun) results.meta.versions.libc = nativeRun.libc as string;
notes.push(`Each measurement is a fresh process: node --import tsx bench/worker.ts <job> (the native replayer for C malloc); timeout ${timeoutS} s per process (startup and trace decoding included), then it is killed and reported as "timeout".`);
notes.push('@thi.ng/malloc: its realloc leaks the old block whenever it moves one (it frees the header address instead of the data address) and writes over its own state when that move fails; the benchmark calls its realloc only when it resizes in place and otherwise does malloc + copy + free itself (bench/lib/targets.ts). malloc(0) is passed as malloc(1) (its malloc(0) returns 0).');

writeOutputs(results);

/** Writes results.md, results.json and the SVG charts to --out, and prints the markdown. */
function writeOutputs(res: Results): void {
	const outDir = resolve(opt.out);
	mkdirSync(outDir, { recursive: true });
	const svgs = charts(res);
	for (const [name, svg] of svgs) writeFileSync(join(outDir, name), svg);
	const md = markdownReport(res, [...svgs.keys()]);
	writeFileSync(join(outDir, 'results.md'), md);
	writeFileSync(join(outDir, 'results.json'), `${JSON.stringify(res, null, '\t')}\n`);
	console.log(md);
	log(`wrote ${relative(REPO, join(outDir, 'results.md'))}, results.json and ${svgs.size} SVG charts in ${relative(REPO, outDir) || outDir}`);
}
