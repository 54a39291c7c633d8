/**
 * shared.ts: multi-worker throughput of a heap on a SharedArrayBuffer
 * (`npm run bench:shared`).
 *
 *   node --import tsx bench/shared.ts [--rounds N] [--ops N] [--live N] [options]
 *
 * The same per-worker work (shared-worker.ts: a fixed-seed mix of malloc,
 * free, realloc and calloc over a steady-state live set, one byte written
 * into every new block) in these configurations:
 *
 *   unshared-1           1 worker, its own unshared heap (an ArrayBuffer)
 *   shared-1/2/4         1, 2, 4 workers on ONE heap on a SharedArrayBuffer
 *   unshared-2/4         2, 4 workers, each with its own unshared heap: the
 *                        scaling ceiling (no sharing at all)
 *
 * Every measurement starts fresh worker threads; each fills its live set,
 * warms up untimed, then all wait on a barrier (Atomics.wait on a small
 * SharedArrayBuffer) that the driver releases at once. Throughput = total
 * timed ops ÷ (last worker's end − first worker's start), both taken inside
 * the workers. The configurations take turns, their order rotating from
 * round to round; the best of --rounds is kept (the median is shown too).
 * After every shared run the driver checks that the heap is sound
 * (`check()` is empty) and empty (`stats().usedBytes` and `liveBlocks` are
 * 0 once every worker has freed everything and released its cache); a run
 * that fails this, or whose touched bytes read back wrong, stops the bench.
 *
 * Output: a markdown table on stdout and in --out/shared.md, and
 * --out/shared.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { log, parseCli, rotation, runMeta } from './lib/cli.js';
import { table } from './lib/report.js';
import { Worker } from 'node:worker_threads';
import { Heap } from '../src/index.js';
import { CTL_GO, LIVE_BAND, MIX, SIZES, type SharedWorkerJob, type SharedWorkerResult } from './shared-worker.js';

const BENCH = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(BENCH, '..');
const MiB = 1 << 20;

const CONFIGS = ['unshared-1', 'shared-1', 'shared-2', 'shared-4', 'unshared-2', 'unshared-4'] as const;
type Config = (typeof CONFIGS)[number];

const OPTIONS = {
	rounds: { type: 'string', default: '5', description: 'rounds; every configuration runs once per round, the best is kept' },
	ops: { type: 'string', default: '4000000', description: 'timed ops per worker' },
	warmup: { type: 'string', default: '500000', description: 'untimed ops per worker before the barrier' },
	live: { type: 'string', default: '10000', description: 'steady-state live blocks per worker' },
	seed: { type: 'string', default: '1', description: 'worker i uses seed + i' },
	arena: { type: 'string', default: '32', description: 'MiB of heap per worker (a shared heap of W workers gets W × this)' },
	threads: { type: 'string', default: '16', description: 'thread slots of the shared heap (its `threads` option)' },
	configs: { type: 'string', default: CONFIGS.join(','), description: 'configurations to run' },
	'max-other': { type: 'string', default: '0.2', description: 'a run during which other processes used more CPU than this (in cores) is disturbed: left out of best and median while the configuration has undisturbed runs' },
	retries: { type: 'string', default: '3', description: 'extra runs, after the rounds, of a configuration that has no undisturbed run yet' },
	timeout: { type: 'string', default: '120', description: 'seconds before a measurement is abandoned' },
	out: { type: 'string', default: join(BENCH, 'results'), description: 'output folder' },
	help: { type: 'boolean', default: false, description: 'print this help' },
} as const;

const { opt, posInt, choices, fail } = parseCli('node --import tsx bench/shared.ts [options]', OPTIONS, false);
const rounds = Math.max(1, posInt('rounds', opt.rounds));
const ops = Math.max(1, posInt('ops', opt.ops));
const warmupOps = posInt('warmup', opt.warmup);
const live = Math.max(1, posInt('live', opt.live));
const seed = posInt('seed', opt.seed);
const arenaBytes = Math.max(1, posInt('arena', opt.arena)) * MiB;
const threads = posInt('threads', opt.threads);
const timeoutS = Math.max(1, posInt('timeout', opt.timeout));
const maxOther = Number(opt['max-other']);
if (!(maxOther >= 0)) fail(`--max-other: expected a non-negative number of cores, got ${JSON.stringify(opt['max-other'])}`);
const retries = posInt('retries', opt.retries);
const configs = choices('configs', 'configuration', opt.configs, CONFIGS);

function parseConfig(c: Config): { heap: 'shared' | 'unshared'; workers: number } {
	const [heap, w] = c.split('-');
	return { heap: heap as 'shared' | 'unshared', workers: Number(w) };
}

// ─── One measurement ────────────────────────────────────────────────────

/** One run of one configuration. */
interface Run {
	config: Config;
	round: number;
	/** Total timed ops ÷ (max end − min start), ops per second ÷ 1e6. */
	mops: number;
	wallMs: number;
	totalOps: number;
	/** Latest start − earliest start, ms (how unevenly the barrier released them). */
	startSpreadMs: number;
	/** Each worker's own timed span, ms. */
	workerMs: number[];
	/** Shared heap after the run: check() violations, stats. */
	violations: number;
	usedBytes: number;
	liveBlocks: number;
	cachedBlocks: number;
	corrupt: number;
	/** Thread slots the workers got (−1: none). */
	threadSlots: number[];
	/** Peak used bytes of the heap(s) (max over workers for unshared). */
	peakUsedBytes: number;
	/** Time to start the workers and reach the barrier (fill + warm-up), ms. */
	setupMs: number;
	/**
	 * CPU time other processes used from the release to the last result, in
	 * cores (0.5 = half a core busy on average): the machine's busy time
	 * (os.cpus()) minus this process's (process.cpuUsage(), all its threads).
	 */
	otherLoad: number;
}

/** Busy CPU time of the whole machine so far, ms (os.cpus(), 10 ms resolution on Linux). */
function machineBusyMs(): number {
	let t = 0;
	for (const c of os.cpus()) t += c.times.user + c.times.nice + c.times.sys + c.times.irq;
	return t;
}

/** Worker threads start from scripts/ts-worker.mjs, which registers tsx and imports shared-worker.ts. */
const TS_WORKER = new URL('../scripts/ts-worker.mjs', import.meta.url);
const WORKER_URL = new URL('./shared-worker.ts', import.meta.url).href;

async function measure(config: Config, round: number): Promise<Run> {
	const { heap: kind, workers } = parseConfig(config);
	const control = new SharedArrayBuffer(16);
	const ctl = new Int32Array(control);
	let sab: SharedArrayBuffer | null = null;
	let heap: Heap | null = null;
	if (kind === 'shared') {
		sab = new SharedArrayBuffer(arenaBytes * workers);
		heap = new Heap({ buffer: sab, threads });
		// The driver allocates nothing: give its thread slot back to the workers.
		heap.releaseThreadCache();
	}
	const t0 = performance.now();
	let setupMs = 0;
	let busy0 = 0;
	let cpu0 = process.cpuUsage();
	let window0 = 0;
	let otherLoad = 0;
	const results: SharedWorkerResult[] = [];
	const ws: Worker[] = [];
	try {
		await new Promise<void>((done, fail) => {
			let ready = 0;
			let finished = 0;
			const timer = setTimeout(() => fail(new Error(`${config}: did not finish in ${timeoutS} s`)), timeoutS * 1000);
			const stop = (e: Error): void => {
				clearTimeout(timer);
				fail(e);
			};
			for (let i = 0; i < workers; i++) {
				const job: SharedWorkerJob = { heap: kind, sab, arenaBytes, control, index: i, seed, ops, warmupOps, live };
				const w = new Worker(TS_WORKER, { workerData: { ...job, entry: WORKER_URL } });
				ws.push(w);
				w.on('message', (m: { type: string; result?: SharedWorkerResult; message?: string }) => {
					if (m.type === 'ready') {
						if (++ready === workers) {
							setupMs = performance.now() - t0;
							busy0 = machineBusyMs();
							cpu0 = process.cpuUsage();
							window0 = performance.now();
							Atomics.store(ctl, CTL_GO, 1);
							Atomics.notify(ctl, CTL_GO);
						}
					} else if (m.type === 'result') {
						results.push(m.result as SharedWorkerResult);
						if (results.length === workers) {
							const cpu = process.cpuUsage(cpu0);
							const other = machineBusyMs() - busy0 - (cpu.user + cpu.system) / 1e3;
							otherLoad = Math.max(0, other) / (performance.now() - window0);
						}
					} else {
						stop(new Error(`${config}: worker ${i}: ${m.message ?? 'failed'}`));
					}
				});
				w.on('error', (e) => stop(new Error(`${config}: worker ${i}: ${e.message}`)));
				w.on('exit', (code) => {
					if (code !== 0) stop(new Error(`${config}: worker ${i} exited with code ${code}`));
					else if (++finished === workers) {
						clearTimeout(timer);
						if (results.length === workers) done();
						else fail(new Error(`${config}: ${workers - results.length} workers exited without a result`));
					}
				});
			}
		});
	} finally {
		for (const w of ws) await w.terminate();
	}
	const start = Math.min(...results.map((r) => r.start));
	const end = Math.max(...results.map((r) => r.end));
	const totalOps = results.reduce((a, r) => a + r.ops, 0);
	const wallMs = end - start;
	const run: Run = {
		config,
		round,
		mops: totalOps / wallMs / 1e3,
		wallMs,
		totalOps,
		startSpreadMs: Math.max(...results.map((r) => r.start)) - start,
		workerMs: results.sort((a, b) => a.index - b.index).map((r) => r.end - r.start),
		violations: 0,
		usedBytes: 0,
		liveBlocks: 0,
		cachedBlocks: 0,
		corrupt: results.reduce((a, r) => a + r.corrupt, 0),
		threadSlots: results.map((r) => r.threadSlot),
		peakUsedBytes: 0,
		setupMs,
		otherLoad,
	};
	if (heap !== null) {
		const violations = heap.check();
		const st = heap.stats();
		run.violations = violations.length;
		run.usedBytes = st.usedBytes;
		run.liveBlocks = st.liveBlocks;
		run.cachedBlocks = st.cachedBlocks;
		run.peakUsedBytes = st.peakUsedBytes;
		if (violations.length > 0) log(`    check(): ${violations.slice(0, 5).map((v) => `${v.rule} at ${v.at}: ${v.message}`).join('; ')}`);
	} else {
		run.violations = results.reduce((a, r) => a + (r.violations ?? 0), 0);
		run.usedBytes = results.reduce((a, r) => a + (r.usedBytes ?? 0), 0);
		run.liveBlocks = results.reduce((a, r) => a + (r.liveBlocks ?? 0), 0);
		run.peakUsedBytes = Math.max(...results.map((r) => r.peakUsedBytes ?? 0));
	}
	return run;
}

function sound(r: Run): boolean {
	return r.violations === 0 && r.usedBytes === 0 && r.liveBlocks === 0 && r.cachedBlocks === 0 && r.corrupt === 0;
}

// ─── The rounds ─────────────────────────────────────────────────────────

const started = performance.now();
// Spelled out so that shared.json keeps its key order (loadavgEnd sits between the shared fields).
const { date, node, v8, cpu, cores, platform, loadavgStart, heapfitCommit, command } = runMeta('node --import tsx bench/shared.ts');
const meta = { date, node, v8, cpu, cores, platform, loadavgStart, loadavgEnd: [] as number[], heapfitCommit, command, durationS: 0 };
const options = { rounds, maxOther, retries, ops, warmupOps, live, seed, arenaMiB: arenaBytes / MiB, threads, configs, liveBand: LIVE_BAND, mix: MIX, sizes: SIZES };

const runs: Run[] = [];
let broken: Run | null = null;
const disturbed = (run: Run): boolean => run.otherLoad > maxOther;

/** Runs one measurement and logs it; false when the heap came out unsound. */
async function step(c: Config, r: number, label: string): Promise<boolean> {
	const run = await measure(c, r);
	runs.push(run);
	const spread = run.workerMs.map((x) => x.toFixed(0)).join('/');
	log(
		`${label} · ${c.padEnd(10)}: ${run.mops.toFixed(2)} Mops/s (wall ${run.wallMs.toFixed(0)} ms, workers ${spread} ms, start spread ${run.startSpreadMs.toFixed(2)} ms, setup ${run.setupMs.toFixed(0)} ms, other processes ${run.otherLoad.toFixed(2)} cores${disturbed(run) ? ': disturbed' : ''})${sound(run) ? '' : ' UNSOUND'}`,
	);
	if (sound(run)) return true;
	broken = run;
	return false;
}

outer: for (let r = 0; r < rounds; r++) {
	for (const c of rotation(configs, r)) if (!(await step(c, r, `round ${r + 1}/${rounds}`))) break outer;
}
// Configurations that only had disturbed runs get up to --retries more.
for (let k = 0; k < retries && broken === null; k++) {
	const todo = configs.filter((c) => !runs.some((x) => x.config === c && !disturbed(x)));
	if (todo.length === 0) break;
	for (const c of todo) if (!(await step(c, rounds + k, `retry ${k + 1}/${retries}`))) break;
}

// ─── Report ─────────────────────────────────────────────────────────────

interface Summary {
	config: Config;
	heap: 'shared' | 'unshared';
	workers: number;
	/** Best and median throughput over the rounds, Mops/s. */
	bestMops: number;
	medianMops: number;
	worstMops: number;
	/** Per-worker ns per op at the best run (wall × workers ÷ total ops: CPU-ns per op when workers ≤ cores). */
	nsPerOp: number;
	runs: number;
	/** Runs during which other processes used at most --max-other cores (the figures come from these when there are any). */
	cleanRuns: number;
	/** Other processes' CPU during the best run, cores (Run.otherLoad). */
	bestOtherLoad: number;
}

const summaries = new Map<Config, Summary>();
for (const c of configs) {
	const all = runs.filter((x) => x.config === c);
	if (all.length === 0) continue;
	const clean = all.filter((x) => !disturbed(x));
	const rs = clean.length > 0 ? clean : all;
	const ms = rs.map((x) => x.mops).sort((a, b) => a - b);
	const { heap, workers } = parseConfig(c);
	const bestRun = rs.reduce((a, b) => (b.mops > a.mops ? b : a));
	const best = bestRun.mops;
	summaries.set(c, {
		config: c,
		heap,
		workers,
		bestMops: best,
		medianMops: ms[Math.floor(ms.length / 2)],
		worstMops: ms[0],
		nsPerOp: (1e3 / best) * Math.min(workers, meta.cores),
		runs: all.length,
		cleanRuns: clean.length,
		bestOtherLoad: bestRun.otherLoad,
	});
}

meta.loadavgEnd = os.loadavg();
meta.durationS = (performance.now() - started) / 1000;

const num = (x: number, d = 2): string => x.toFixed(d);
const ratioOf = (a: Config, b: Config, f: (s: Summary) => number, invert = false): number | null => {
	const x = summaries.get(a);
	const y = summaries.get(b);
	if (x === undefined || y === undefined) return null;
	return invert ? f(y) / f(x) : f(x) / f(y);
};

interface Ratio {
	name: string;
	best: number | null;
	median: number | null;
	target: string;
	met: boolean | null;
}
const ratios: Ratio[] = [];
const addRatio = (name: string, a: Config, b: Config, invert: boolean, target: string, ok: ((x: number) => boolean) | null): void => {
	const best = ratioOf(a, b, (s) => s.bestMops, invert);
	const median = ratioOf(a, b, (s) => s.medianMops, invert);
	ratios.push({ name, best, median, target, met: ok === null || best === null ? null : ok(best) });
};
// Throughput ratios: a ÷ b. Cost ratio: time per op of shared-1 ÷ unshared-1 = Mops(unshared-1) ÷ Mops(shared-1).
addRatio('shared 2 workers ÷ shared 1 worker (throughput)', 'shared-2', 'shared-1', false, '≥ 1.5', (x) => x >= 1.5);
addRatio('shared 1 worker ÷ unshared 1 worker (time per op)', 'shared-1', 'unshared-1', true, '≤ 1.2', (x) => x <= 1.2);
addRatio('shared 4 workers ÷ shared 1 worker (throughput)', 'shared-4', 'shared-1', false, '', null);
addRatio('unshared 2 ÷ unshared 1 (throughput: the scaling ceiling)', 'unshared-2', 'unshared-1', false, '', null);
addRatio('unshared 4 ÷ unshared 1 (throughput)', 'unshared-4', 'unshared-1', false, '', null);
addRatio('shared 2 ÷ unshared 2 (throughput: share of the ceiling)', 'shared-2', 'unshared-2', false, '', null);
addRatio('shared 4 ÷ unshared 4 (throughput)', 'shared-4', 'unshared-4', false, '', null);

const LABEL: Record<Config, string> = {
	'unshared-1': '1 worker, unshared heap',
	'shared-1': '1 worker, shared heap',
	'shared-2': '2 workers, one shared heap',
	'shared-4': '4 workers, one shared heap',
	'unshared-2': '2 workers, an unshared heap each',
	'unshared-4': '4 workers, an unshared heap each',
};

function markdown(): string {
	const out: string[] = [];
	out.push('# heapfit multi-worker throughput (bench/shared.ts)\n');
	out.push(`- date: ${meta.date} (took ${Math.round(meta.durationS)} s)`);
	out.push(`- machine: ${meta.cpu} × ${meta.cores} (os.cpus()), ${meta.platform}; load average at start ${meta.loadavgStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${meta.loadavgEnd.map((x) => x.toFixed(2)).join(' / ')}`);
	out.push(`- node ${meta.node} (V8 ${meta.v8}); heapfit ${meta.heapfitCommit}`);
	out.push(`- command: \`${meta.command}\``);
	out.push(
		`- work per worker: ${ops.toLocaleString('en-US')} timed ops after filling ${live.toLocaleString('en-US')} live blocks and ${warmupOps.toLocaleString('en-US')} untimed warm-up ops; ` +
			`mix ${MIX.malloc}% malloc, ${MIX.calloc}% calloc(1, n), ${MIX.free}% free of a random live block, ${MIX.realloc}% realloc of a random live block to a new size ` +
			`(the live count kept within ${live.toLocaleString('en-US')} ± ${LIVE_BAND * 100}% by forcing a free or an allocation at the edges); ` +
			`sizes ${SIZES.smallPct}% uniform in [${SIZES.smallMin}, ${SIZES.smallMax}] B, ${100 - SIZES.smallPct}% uniform in [${SIZES.largeMin}, ${SIZES.largeMax}] B; ` +
			`one byte written into every new or moved block and checked before it is freed or moved; worker i uses seed ${seed} + i, all draws made before the clock starts`,
	);
	out.push(
		`- heaps: shared = one \`new Heap({ buffer: SharedArrayBuffer(W × ${arenaBytes / MiB} MiB), threads: ${threads} })\`, each worker \`Heap.attach(sab, 0)\`; unshared = \`new Heap({ buffer: new ArrayBuffer(${arenaBytes / MiB} MiB) })\` made in the worker`,
	);
	out.push(
		`- throughput = total timed ops ÷ (last worker's end − first worker's start), after a barrier release; best and median of ${rounds} rounds (undisturbed runs only, see below), configurations alternating in rotating order, fresh worker threads for every run`,
	);
	const sharedRuns = runs.filter((x) => parseConfig(x.config).heap === 'shared');
	out.push(
		`- soundness: after each of the ${sharedRuns.length} shared runs, once every worker had freed its blocks and called releaseThreadCache(): ` +
			(broken === null
				? '`check()` returned [] and `stats()` showed usedBytes 0, liveBlocks 0, cachedBlocks 0; no touched byte read back wrong in any run'
				: `FAILED in ${broken.config} round ${broken.round + 1}: ${broken.violations} violations, usedBytes ${broken.usedBytes}, liveBlocks ${broken.liveBlocks}, cachedBlocks ${broken.cachedBlocks}, ${broken.corrupt} bad bytes; the bench stopped there`),
	);
	out.push('');
	out.push(
		table(
			['configuration', 'workers', 'Mops/s (best)', 'Mops/s (median)', 'Mops/s (worst)', 'ns per op per worker (best)', 'vs 1 worker of its kind', 'undisturbed runs', 'other processes (best run)'],
			[...summaries.values()].map((s) => {
				const one = summaries.get(s.heap === 'shared' ? 'shared-1' : 'unshared-1');
				return [
					LABEL[s.config],
					String(s.workers),
					num(s.bestMops),
					num(s.medianMops),
					num(s.worstMops),
					num(s.nsPerOp, 0),
					one === undefined ? '—' : `${num(s.bestMops / one.bestMops)}×`,
					`${s.cleanRuns}/${s.runs}${s.cleanRuns === 0 ? ' (figures from disturbed runs)' : ''}`,
					`${num(s.bestOtherLoad)} cores`,
				];
			}),
		),
	);
	out.push('');
	out.push(`ns per op per worker = ${meta.cores} cores ÷ throughput when there are more workers than cores, else workers ÷ throughput.`);
	const loads = runs.map((x) => x.otherLoad).sort((a, b) => a - b);
	out.push(
		`Other processes = CPU time the rest of the machine used during a run (os.cpus() busy time minus this process's), in cores; over all ${runs.length} runs: median ${num(loads[Math.floor(loads.length / 2)] ?? 0)}, max ${num(loads[loads.length - 1] ?? 0)}. Anything well above 0 on a ${meta.cores}-core machine takes cores from the workers, so a run during which other processes used more than ${maxOther} cores counts as disturbed: best and median come from the undisturbed runs of a configuration when it has any (a configuration with none got up to ${retries} extra runs after the rounds).\n`,
	);
	out.push(
		table(
			['ratio', 'best of rounds', '(medians)', 'target', 'met'],
			ratios.map((r) => [
				r.name,
				r.best === null ? '—' : `${num(r.best)}×`,
				r.median === null ? '—' : `(${num(r.median)}×)`,
				r.target,
				r.met === null ? '' : r.met ? 'yes' : 'NO',
			]),
		),
	);
	out.push('');
	return out.join('\n');
}

const outDir = resolve(opt.out);
mkdirSync(outDir, { recursive: true });
const md = markdown();
writeFileSync(join(outDir, 'shared.md'), md);
writeFileSync(join(outDir, 'shared.json'), `${JSON.stringify({ meta, options, summaries: [...summaries.values()], ratios, runs, broken }, null, '\t')}\n`);
console.log(md);
log(`wrote ${relative(REPO, join(outDir, 'shared.md'))} and shared.json`);
if (broken !== null) process.exit(1);
