/** heapfit/trace: read `alloc-trace v1` files and replay them (public exports only). */
export { MAX_LINE_BYTES, TraceDecoder } from './decoder.js';
export {
	MAX_ALIGN,
	MAX_ID,
	MAX_SIZE,
	OP_CALLOC,
	OP_FREE,
	OP_LETTERS,
	OP_MALLOC,
	OP_MEMALIGN,
	OP_NAMES,
	OP_REALLOC,
	type OpCounts,
	type OpKind,
	type OpLetter,
	type Trace,
	TraceError,
	type TraceErrorCode,
	lineOf,
} from './format.js';
export { type TraceSource, isGzip, readTrace } from './reader.js';
export {
	type ReplayFailure,
	type ReplayOptions,
	type ReplayReport,
	ReplayError,
	type ReplayTarget,
	replay,
} from './replay.js';
