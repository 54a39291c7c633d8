/**
 * jobs.ts: what the driver (run.ts) asks one worker process (worker.ts) to
 * measure, and what comes back. One job = one allocator × one workload item
 * × one run, in a fresh process.
 */
import type { JsPeer } from './targets.js';
import type { EfficiencyOptions, PairsOptions, RandomOptions } from './workloads.js';

interface JobBase {
	peer: JsPeer;
	/** Compiled AssemblyScript module (peer `as` only). */
	wasm: string | null;
}

export interface TraceJob extends JobBase {
	workload: 'traces';
	path: string;
	/** Arena in bytes; 0 = traceArenaBytes(peak live bytes). */
	arenaBytes: number;
}

export interface EfficiencyJob extends JobBase, EfficiencyOptions {
	workload: 'efficiency';
	arenaBytes: number;
}

export interface RandomJob extends JobBase, RandomOptions {
	workload: 'random';
	arenaBytes: number;
}

export interface PairsJob extends JobBase, PairsOptions {
	workload: 'pairs';
	arenaBytes: number;
}

export type Job = TraceJob | EfficiencyJob | RandomJob | PairsJob;

/** The line prefix a worker prints its JSON result after. */
export const RESULT_PREFIX = '@@RESULT ';

/** How a measurement ended. */
export type Status = 'ok' | 'failed' | 'timeout' | 'error' | 'skipped';

/** One measurement as the driver records it (fields by workload). */
export interface Measurement {
	status: Status;
	/** Why, for anything but ok. */
	note?: string;
	/** Wall time of the whole child process, ms. */
	wallMs?: number;
	nsPerOp?: number;
	ops?: number;
	totalOps?: number;
	elapsedMs?: number;
	peakLiveBytes?: number;
	footprintBytes?: number;
	fragmentation?: number;
	arenaBytes?: number;
	failedAt?: unknown;
	checkViolations?: number;
	efficiency?: number;
	liveBytes?: number;
	liveBlocks?: number;
	actions?: number;
	failedOn?: string;
	failures?: number;
	maxLive?: number;
	decodeMs?: number;
	[k: string]: unknown;
}
