/**
 * format.ts: the `alloc-trace v1` format, the decoded `Trace`, and
 * `TraceError`. Main entry points: `Trace`, `TraceError`, `lineOf`.
 *
 * ## The text format (one op per line, fields separated by spaces or tabs)
 *
 * ```
 *  # alloc-trace v1 program=<name>     header (line 1, optional); '#' = comment
 *  a <id> <size>                       malloc(size)
 *  c <id> <size>                       calloc, <size> = total bytes, reads as zero
 *  m <id> <align> <size>               aligned allocation, align a power of two
 *  r <id> <size>                       realloc of live <id>; the id stays the same
 *  f <id>                              free of live <id>
 * ```
 * Blank lines and `#` lines may appear anywhere and are skipped; `\r\n`
 * line ends and trailing whitespace are accepted.
 *
 * ## The decoded trace (struct of typed arrays, one element per op)
 *
 * ```
 *  column  type                 bytes/op  meaning
 *  ──────  ───────────────────  ────────  ─────────────────────────────────
 *  kind    Uint8Array           1         OP_MALLOC … OP_FREE
 *  id      Uint32Array          4         object id, 1 ≤ id ≤ MAX_ID
 *  size    Float64Array         8         bytes (0 for f), ≤ MAX_SIZE
 *  align   Uint32Array | null   4         alignment of m ops, 0 for others;
 *                                         null when the trace has no m op
 * ```
 * Line numbers are not stored per op: `gaps` lists, for every line that is
 * not an op (header, comment, blank), how many ops came before it, and
 * `lineOf` recovers an op's line with a binary search over that short list.
 *
 * Validity rules the reader enforces (an op breaking one is a TraceError):
 * - `a`/`c`/`m` of `id` is allowed iff `id` is not live (a dead id may be
 *   reused; the format's tracer never does, but nothing breaks if one does);
 * - `r`/`f` of `id` is allowed iff `id` is live;
 * - an id is live iff its last `a`/`c`/`m`/`r` op is after its last `f` op.
 */

/** malloc(size): `a <id> <size>`. */
export const OP_MALLOC = 0;
/** calloc of `size` total bytes: `c <id> <size>`. */
export const OP_CALLOC = 1;
/** aligned allocation: `m <id> <align> <size>`. */
export const OP_MEMALIGN = 2;
/** realloc of a live id: `r <id> <size>`. */
export const OP_REALLOC = 3;
/** free of a live id: `f <id>`. */
export const OP_FREE = 4;

/** An op code, the value stored in `Trace.kind`. */
export type OpKind = typeof OP_MALLOC | typeof OP_CALLOC | typeof OP_MEMALIGN | typeof OP_REALLOC | typeof OP_FREE;

/** An op as its letter in the text format. */
export type OpLetter = 'a' | 'c' | 'm' | 'r' | 'f';

/** The letter of each op code: `OP_LETTERS[kind]`. */
export const OP_LETTERS: readonly OpLetter[] = ['a', 'c', 'm', 'r', 'f'];

/** What each op code does, in words: `OP_NAMES[kind]`. */
export const OP_NAMES: readonly string[] = ['malloc', 'calloc', 'aligned alloc', 'realloc', 'free'];

/** Largest id the reader accepts. Ids index dense tables, so memory is O(max id). */
export const MAX_ID = 0x0fff_ffff;

/** Largest size the reader accepts (sizes are exact in a Float64Array). */
export const MAX_SIZE = Number.MAX_SAFE_INTEGER;

/** Largest alignment the reader accepts (2^31). */
export const MAX_ALIGN = 0x8000_0000;

/** How many ops of each kind a trace has. */
export interface OpCounts {
	/** `a` ops. */
	malloc: number;
	/** `c` ops. */
	calloc: number;
	/** `m` ops. */
	memalign: number;
	/** `r` ops. */
	realloc: number;
	/** `f` ops. */
	free: number;
}

/** A decoded `alloc-trace v1`: one typed-array column per field. */
export interface Trace {
	/** The header's `program=` value, or null when there is none. */
	program: string | null;
	/** The header line without its `# `, or null when line 1 is not a header. */
	header: string | null;
	/** Number of ops (the length of every column). */
	ops: number;
	/** Op code of each op (OP_MALLOC … OP_FREE). */
	kind: Uint8Array;
	/** Object id of each op. */
	id: Uint32Array;
	/** Requested bytes of each op; 0 for `f`. */
	size: Float64Array;
	/** Alignment of each `m` op (0 for other ops), or null when there is no `m` op. */
	align: Uint32Array | null;
	/** For each non-op line, in order, the number of ops before it (see `lineOf`). */
	gaps: Uint32Array;
	/** Lines in the input, including header, comments and blank lines. */
	lines: number;
	/** Ops per kind. */
	counts: OpCounts;
	/** Largest id used (tables indexed by id need `maxId + 1` slots). */
	maxId: number;
	/** Largest sum of live requested sizes at any point. */
	peakLiveBytes: number;
	/** Largest number of live objects at any point. */
	maxLiveObjects: number;
	/** Largest single request (`size` of an `a`, `c`, `m` or `r`). */
	largestRequest: number;
	/** Objects still live at the end (never freed by the program). */
	leakedObjects: number;
	/** Requested bytes still live at the end. */
	leakedBytes: number;
}

/** What a TraceError is about. */
export type TraceErrorCode =
	/** Line 1 says `# alloc-trace` but not `v1`. */
	| 'BAD_HEADER'
	/** The first field is not one of a, c, m, r, f. */
	| 'UNKNOWN_OP'
	/** Too few or too many fields for the op. */
	| 'FIELD_COUNT'
	/** An id that is not an integer in [1, MAX_ID]. */
	| 'BAD_ID'
	/** A size that is not an integer in [0, MAX_SIZE]. */
	| 'BAD_SIZE'
	/** An alignment that is not a power of two in [1, MAX_ALIGN]. */
	| 'BAD_ALIGN'
	/** `r`/`f` of an id that was never allocated. */
	| 'UNKNOWN_ID'
	/** `r`/`f` of an id that has been freed. */
	| 'DEAD_ID'
	/** `a`/`c`/`m` of an id that is still live. */
	| 'LIVE_ID'
	/** A line longer than MAX_LINE_BYTES. */
	| 'LINE_TOO_LONG'
	/** The gzip stream is corrupt or truncated, or the source failed. */
	| 'BAD_INPUT';

/** Bad trace input. `line` is 1-based; the message is one line and starts with it. */
export class TraceError extends Error {
	override name = 'TraceError';
	constructor(
		/** What is wrong, as a stable code. */
		readonly code: TraceErrorCode,
		/** 1-based line number where it was found. */
		readonly line: number,
		/** What is wrong, in words (without the line number). */
		readonly detail: string,
	) {
		super(`line ${line}: ${detail}`);
	}
}

/** The 1-based line number of op `op` (0-based) in the text it was read from. */
export function lineOf(trace: Pick<Trace, 'gaps'>, op: number): number {
	// Count gaps g with g <= op: each is a non-op line before op's line.
	const gaps = trace.gaps;
	let lo = 0;
	let hi = gaps.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (gaps[mid] <= op) lo = mid + 1;
		else hi = mid;
	}
	return op + 1 + lo;
}
