/** Every API function that takes a pointer to a live block, each called the way the misuse tests call it. */
import { type Heap, Layout } from '../../src/index.js';

export const POINTER_OPS: [string, (heap: Heap, ptr: number) => unknown][] = [
	['free', (h, p) => h.free(p)],
	['realloc', (h, p) => h.realloc(p, 100)],
	['usableSize', (h, p) => h.usableSize(p)],
	['deallocate', (h, p) => h.deallocate(p, new Layout(8))],
	['grow', (h, p) => h.grow(p, new Layout(8), new Layout(200))],
	['shrink', (h, p) => h.shrink(p, new Layout(8), new Layout(4))],
];
