/**
 * worker.ts: runs ONE measurement in this process and prints its result as
 * one line `@@RESULT {json}` on stdout. Started by run.ts as
 *
 *   node --import tsx bench/worker.ts '<job json>'
 *
 * so that no allocator, JIT state or garbage of one measurement affects
 * another. Exit code 0 even when the allocator failed (status says so);
 * non-zero only when the worker itself broke.
 */
import { createReadStream } from 'node:fs';
import { ReplayError, readTrace, replay } from '../src/trace/index.js';
import { type Job, type Measurement, RESULT_PREFIX } from './lib/jobs.js';
import { makeTarget } from './lib/targets.js';
import { freeMallocPairs, heapEfficiency, randomActions, traceArenaBytes } from './lib/workloads.js';

/**
 * Ops of a trace replayed untimed, on a throwaway allocator, before the
 * timed replay: the whole trace up to this many ops, so that the JIT has
 * compiled replay() and the allocator's methods for this trace's paths (a
 * JavaScript peer's first pass over a trace runs partly in the interpreter
 * and baseline tiers; a wasm peer's first pass partly in Liftoff).
 */
const WARMUP_OPS = 1_000_000;

async function run(job: Job): Promise<Measurement> {
	switch (job.workload) {
		case 'traces': {
			const t0 = performance.now();
			const trace = await readTrace(createReadStream(job.path));
			const decodeMs = performance.now() - t0;
			const arena = job.arenaBytes > 0 ? job.arenaBytes : traceArenaBytes(trace.peakLiveBytes);
			const bt = makeTarget(job.peer, arena, job.wasm, false);
			if (trace.counts.memalign > 0 && bt.target.alignedAlloc === undefined) {
				return { status: 'skipped', note: 'the trace has aligned allocations (m) and this peer has no aligned alloc' };
			}
			try {
				// Warm-up: the first ops through a throwaway allocator of the same kind,
				// so that replay() and the allocator's methods are optimised before the
				// timed replay (which runs on a fresh allocator).
				replay(trace, makeTarget(job.peer, arena, job.wasm, false).target, { stopAt: Math.min(WARMUP_OPS, trace.ops) });
				const r = replay(trace, bt.target);
				const m: Measurement = { status: r.failedAt ? 'failed' : 'ok', ...r, arenaBytes: bt.arenaBytes, decodeMs };
				if (r.failedAt) m.note = `out of memory at op ${r.failedAt.op} (${r.failedAt.kind} ${r.failedAt.size} B) in a ${arena / 2 ** 20} MiB arena`;
				if (bt.check) m.checkViolations = bt.check();
				if (job.peer === 'bump') {
					m.fragmentation = undefined;
					m.footprintBytes = undefined;
				}
				return m;
			} catch (e) {
				if (e instanceof ReplayError) return { status: 'error', note: e.message };
				throw e;
			}
		}
		case 'efficiency': {
			const bt = makeTarget(job.peer, job.arenaBytes, job.wasm, true);
			const r = heapEfficiency(bt.target, bt.arenaBytes, job);
			const m: Measurement = { status: 'ok', ...r, arenaBytes: bt.arenaBytes };
			if (bt.check) m.checkViolations = bt.check();
			return m;
		}
		case 'random':
		case 'pairs': {
			const bt = makeTarget(job.peer, job.arenaBytes, job.wasm, false);
			const r = job.workload === 'random' ? randomActions(bt.target, job) : freeMallocPairs(bt.target, job);
			const m: Measurement = { status: r.failures > 0 ? 'failed' : 'ok', ...r, arenaBytes: bt.arenaBytes };
			if (r.failures > 0) m.note = `${r.failures} allocations failed`;
			if (bt.check) m.checkViolations = bt.check();
			return m;
		}
	}
}

const arg = process.argv[2];
if (arg === undefined) {
	console.error('usage: node --import tsx bench/worker.ts <job json>');
	process.exit(2);
}
try {
	const result = await run(JSON.parse(arg) as Job);
	process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
} catch (e) {
	const note = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
	process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ status: 'error', note })}\n`);
}
