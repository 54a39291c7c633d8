/**
 * worker.ts: one worker of the pool (started by main.ts). It attaches to the
 * shared heap, then runs whatever phase main asks for and answers with what
 * it did:
 *
 *   { op: 'add', words }     count each word (allocating nodes for new ones)
 *   { op: 'remove', words }  unlink and free these words' nodes
 *   { op: 'clear' }          free every node of its stripe of buckets
 *   { op: 'exit' }           give its thread cache back, then close
 */
import { parentPort, threadId, workerData } from 'node:worker_threads';
import { Heap } from '../../src/index.js';
import { BUCKETS, Table } from './table.js';

export interface WorkerData {
	sab: SharedArrayBuffer;
	table: number;
	index: number;
	workers: number;
}
export interface Removed {
	removed: number;
	/** Of those, nodes another worker had allocated. */
	foreign: number;
}
export type Command = { op: 'add' | 'remove'; words: string[] } | { op: 'clear' | 'exit' };

const { sab, table: tablePtr, index, workers } = workerData as WorkerData;
// owner: threadId tags this worker's thread slot, so main could recover(threadId)
// the heap if this worker were terminated in the middle of a call.
const heap = Heap.attach(sab, 0, { owner: threadId });
const table = new Table(heap, tablePtr);
const me = index + 1;
parentPort!.postMessage('ready');

parentPort!.on('message', (cmd: Command) => {
	switch (cmd.op) {
		case 'add': {
			let created = 0;
			for (const w of cmd.words) if (table.add(w, me)) created++;
			parentPort!.postMessage({ created });
			break;
		}
		case 'remove':
		case 'clear': {
			let removed = 0, foreign = 0;
			const jobs: [number, string | null][] = [];
			if (cmd.op === 'remove') for (const w of cmd.words) jobs.push([Table.bucketOf(w), w]);
			else for (let b = index; b < BUCKETS; b += workers) jobs.push([b, null]); // this worker's stripe
			for (const [b, w] of jobs) {
				const r = table.remove(b, w, me);
				removed += r.removed;
				foreign += r.foreign;
			}
			parentPort!.postMessage({ removed, foreign } satisfies Removed);
			break;
		}
		case 'exit': {
			// Blocks this worker freed may sit in its thread cache, reusable only
			// by it; hand them back to the heap (and free the slot) before leaving.
			const released = heap.releaseThreadCache();
			parentPort!.postMessage({ released });
			parentPort!.close();
			break;
		}
	}
});
