/**
 * decoder.ts: the byte-level `alloc-trace v1` parser. Main entry point:
 * `new TraceDecoder()`, then `push(bytes)` any number of times with chunks
 * cut anywhere, then `finish()` for the `Trace`.
 *
 * It never builds a string for an op line: `push` finds line ends with the
 * native `Uint8Array.prototype.indexOf`, and each line is scanned once,
 * byte by byte, into at most three numeric fields. Only the part of a line
 * that straddles two chunks is copied (into `_carry`). Strings are made only
 * for the header and for error messages.
 *
 * The live table, indexed by id, is what lets every op be checked in O(1):
 *
 * ```
 *  _live[id]   meaning
 *  ─────────   ─────────────────────────────
 *  0           never allocated (or id ≥ _live.length)
 *  −1          allocated once, now freed (dead)
 *  size + 1    live, with `size` bytes requested
 * ```
 */
import {
	MAX_ALIGN,
	MAX_ID,
	MAX_SIZE,
	OP_CALLOC,
	OP_FREE,
	OP_MALLOC,
	OP_MEMALIGN,
	OP_LETTERS,
	OP_NAMES,
	OP_REALLOC,
	type Trace,
	TraceError,
	type TraceErrorCode,
} from './format.js';

/** Longest line accepted, in bytes (a guard against input that is not a trace). */
export const MAX_LINE_BYTES = 1 << 20;

const LF = 10;
const CR = 13;
const SP = 32;
const TAB = 9;
const HASH = 35;
const DIGIT_0 = 48;

/** Op code of each first byte, −1 for bytes that start no op. */
const KIND_OF = new Int8Array(256).fill(-1);
OP_LETTERS.forEach((letter, kind) => {
	KIND_OF[letter.charCodeAt(0)] = kind;
});

/** The fields each op takes after its letter, by name (for messages), and how many. */
const FIELD_NAMES = [
	['id', 'size'],
	['id', 'size'],
	['id', 'align', 'size'],
	['id', 'size'],
	['id'],
];
const FIELDS = FIELD_NAMES.map((names) => names.length);

/** First column capacity, in ops. */
const INITIAL_OPS = 1 << 14;

const _utf8 = new TextDecoder();

/** Incremental `alloc-trace v1` decoder over UTF-8 (ASCII) bytes; not gzip. */
export class TraceDecoder {
	private _line = 0;
	private _ops = 0;
	private _cap = INITIAL_OPS;
	private _kind = new Uint8Array(INITIAL_OPS);
	private _id = new Uint32Array(INITIAL_OPS);
	private _size = new Float64Array(INITIAL_OPS);
	private _align: Uint32Array | null = null;
	private _gaps: number[] = [];
	private _carry = new Uint8Array(256);
	private _carryLen = 0;
	private _live = new Float64Array(1024);
	private _counts = [0, 0, 0, 0, 0];
	private _maxId = 0;
	private _liveBytes = 0;
	private _liveObjects = 0;
	private _peakBytes = 0;
	private _peakObjects = 0;
	private _largest = 0;
	private _program: string | null = null;
	private _header: string | null = null;
	private _error: TraceError | null = null;
	private _done = false;

	/** Lines completed so far. */
	get lines(): number {
		return this._line;
	}

	/** Ops decoded so far. */
	get ops(): number {
		return this._ops;
	}

	/** Decodes the complete lines in `chunk`; keeps a trailing partial line for later. */
	push(chunk: Uint8Array): void {
		this._assertOpen();
		try {
			this._push(chunk);
		} catch (e) {
			if (e instanceof TraceError) this._error = e;
			throw e;
		}
	}

	/** Decodes the last line (if it has no newline) and returns the trace. */
	finish(): Trace {
		this._assertOpen();
		try {
			if (this._carryLen > 0) {
				const n = this._carryLen;
				this._carryLen = 0;
				this._parseLine(this._carry, 0, n);
			}
		} catch (e) {
			if (e instanceof TraceError) this._error = e;
			throw e;
		}
		this._done = true;
		return this._build();
	}

	/** Throws the error that stopped decoding, or if `finish` was called. */
	private _assertOpen(): void {
		if (this._error !== null) throw this._error;
		if (this._done) throw new Error('TraceDecoder: already finished');
	}

	private _push(chunk: Uint8Array): void {
		const len = chunk.length;
		let s = 0;
		if (this._carryLen > 0) {
			const nl = chunk.indexOf(LF);
			if (nl < 0) {
				this._appendCarry(chunk, 0, len);
				return;
			}
			this._appendCarry(chunk, 0, nl);
			const n = this._carryLen;
			this._carryLen = 0;
			this._parseLine(this._carry, 0, n);
			s = nl + 1;
		}
		for (;;) {
			const nl = chunk.indexOf(LF, s);
			if (nl < 0) break;
			this._parseLine(chunk, s, nl);
			s = nl + 1;
		}
		if (s < len) this._appendCarry(chunk, s, len);
	}

	/** Keeps `chunk[s, e)`, the start of a line that continues in the next chunk. */
	private _appendCarry(chunk: Uint8Array, s: number, e: number): void {
		const need = this._carryLen + (e - s);
		if (need > MAX_LINE_BYTES) this._fail('LINE_TOO_LONG', `line longer than ${MAX_LINE_BYTES} bytes`, 1);
		if (need > this._carry.length) {
			const next = new Uint8Array(Math.max(need, this._carry.length * 2));
			next.set(this._carry.subarray(0, this._carryLen));
			this._carry = next;
		}
		this._carry.set(chunk.subarray(s, e), this._carryLen);
		this._carryLen = need;
	}

	/** Decodes one line `buf[s, e)` (no LF): an op, a comment, the header or blank. */
	private _parseLine(buf: Uint8Array, s: number, e: number): void {
		const line = ++this._line;
		if (e - s > MAX_LINE_BYTES) this._fail('LINE_TOO_LONG', `line longer than ${MAX_LINE_BYTES} bytes`);
		while (e > s) {
			const c = buf[e - 1];
			if (c !== SP && c !== TAB && c !== CR) break;
			e--;
		}
		if (line === 1 && e - s >= 3 && buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf) s += 3; // UTF-8 BOM
		while (s < e && (buf[s] === SP || buf[s] === TAB)) s++;
		if (s === e || buf[s] === HASH) {
			if (line === 1 && s < e) this._parseHeader(_utf8.decode(buf.slice(s + 1, e)).trim());
			this._gaps.push(this._ops);
			return;
		}
		const kind = KIND_OF[buf[s]];
		if (kind < 0 || (s + 1 < e && buf[s + 1] !== SP && buf[s + 1] !== TAB)) {
			this._fail('UNKNOWN_OP', `unknown op ${quote(buf, s, tokenEnd(buf, s, e))} (expected a, c, m, r or f)`);
		}
		// Scan the fields: f0..f2 hold the values, t0..t2 where their text
		// starts, `bad` the first field that is not all digits.
		let p = s + 1;
		let n = 0;
		let f0 = 0;
		let f1 = 0;
		let f2 = 0;
		let t0 = 0;
		let t1 = 0;
		let t2 = 0;
		let bad = -1;
		for (;;) {
			while (p < e && (buf[p] === SP || buf[p] === TAB)) p++;
			if (p === e) break;
			const t = p;
			let v = 0;
			let ok = true;
			for (; p < e; p++) {
				const c = buf[p];
				if (c === SP || c === TAB) break;
				const d = c - DIGIT_0;
				if (d < 0 || d > 9) ok = false;
				v = v * 10 + d;
			}
			if (!ok && bad < 0) bad = n;
			if (n === 0) {
				f0 = v;
				t0 = t;
			} else if (n === 1) {
				f1 = v;
				t1 = t;
			} else if (n === 2) {
				f2 = v;
				t2 = t;
			}
			n++;
		}
		if (n !== FIELDS[kind]) this._fieldCount(kind, n);
		if (bad >= 0) this._badField(kind, bad, buf, bad === 0 ? t0 : bad === 1 ? t1 : t2, e);
		if (f0 < 1 || f0 > MAX_ID) this._badField(kind, 0, buf, t0, e);
		if (kind === OP_MEMALIGN) {
			if (f1 < 1 || f1 > MAX_ALIGN || (f1 & (f1 - 1)) !== 0) this._badField(kind, 1, buf, t1, e);
			if (f2 > MAX_SIZE) this._badField(kind, 2, buf, t2, e);
			this._op(kind, f0, f2, f1);
		} else if (kind === OP_FREE) {
			this._op(kind, f0, 0, 0);
		} else {
			if (f1 > MAX_SIZE) this._badField(kind, 1, buf, t1, e);
			this._op(kind, f0, f1, 0);
		}
	}

	/** Checks op `kind` of `id` against the live table and appends it. */
	private _op(kind: number, id: number, size: number, align: number): void {
		const live = this._live;
		const st = id < live.length ? live[id] : 0;
		if (kind === OP_FREE) {
			if (st <= 0) this._deadId(kind, id, st);
			live[id] = -1;
			this._liveBytes -= st - 1;
			this._liveObjects--;
		} else if (kind === OP_REALLOC) {
			if (st <= 0) this._deadId(kind, id, st);
			live[id] = size + 1;
			this._liveBytes += size - (st - 1);
		} else {
			if (st > 0) this._fail('LIVE_ID', `${OP_NAMES[kind]} of id ${id}, which is already live`);
			if (id >= live.length) this._growLive(id);
			this._live[id] = size + 1;
			this._liveBytes += size;
			if (++this._liveObjects > this._peakObjects) this._peakObjects = this._liveObjects;
			if (id > this._maxId) this._maxId = id;
		}
		if (this._liveBytes > this._peakBytes) this._peakBytes = this._liveBytes;
		if (size > this._largest) this._largest = size;
		this._counts[kind]++;
		const i = this._ops;
		if (i === this._cap) this._growColumns();
		this._kind[i] = kind;
		this._id[i] = id;
		this._size[i] = size;
		if (kind === OP_MEMALIGN) {
			if (this._align === null) this._align = new Uint32Array(this._cap);
			this._align[i] = align;
		}
		this._ops = i + 1;
	}

	/** Reads `alloc-trace v1 key=value …` from line 1, if it is a header. */
	private _parseHeader(text: string): void {
		const words = text.split(/[ \t]+/);
		if (words[0] !== 'alloc-trace') return;
		if (words[1] !== 'v1') {
			this._fail('BAD_HEADER', `unsupported trace format ${JSON.stringify(words[1] ?? '')} (expected v1)`);
		}
		this._header = text;
		for (const w of words.slice(2)) {
			if (w.startsWith('program=')) this._program = w.slice('program='.length);
		}
	}

	private _growColumns(): void {
		const cap = this._cap * 2;
		const kind = new Uint8Array(cap);
		kind.set(this._kind);
		const id = new Uint32Array(cap);
		id.set(this._id);
		const size = new Float64Array(cap);
		size.set(this._size);
		if (this._align !== null) {
			const align = new Uint32Array(cap);
			align.set(this._align);
			this._align = align;
		}
		this._kind = kind;
		this._id = id;
		this._size = size;
		this._cap = cap;
	}

	private _growLive(id: number): void {
		let n = this._live.length;
		while (n <= id) n *= 2;
		const next = new Float64Array(Math.min(n, MAX_ID + 1));
		next.set(this._live);
		this._live = next;
	}

	/** The decoded columns, trimmed to length, and the summary figures. */
	private _build(): Trace {
		const n = this._ops;
		const trim = <T extends Uint8Array | Uint32Array | Float64Array>(a: T): T =>
			(this._cap - n > n >>> 3 ? a.slice(0, n) : a.subarray(0, n)) as T;
		const c = this._counts;
		return {
			program: this._program,
			header: this._header,
			ops: n,
			kind: trim(this._kind),
			id: trim(this._id),
			size: trim(this._size),
			align: this._align === null ? null : trim(this._align),
			gaps: Uint32Array.from(this._gaps),
			lines: this._line,
			counts: { malloc: c[OP_MALLOC], calloc: c[OP_CALLOC], memalign: c[OP_MEMALIGN], realloc: c[OP_REALLOC], free: c[OP_FREE] },
			maxId: this._maxId,
			peakLiveBytes: this._peakBytes,
			maxLiveObjects: this._peakObjects,
			largestRequest: this._largest,
			leakedObjects: this._liveObjects,
			leakedBytes: this._liveBytes,
		};
	}

	// ─── Errors (all go through _fail) ──────────────────────────────────

	/** Throws TraceError `code` for the current line (`ahead` = 1: the next one). */
	private _fail(code: TraceErrorCode, detail: string, ahead = 0): never {
		throw new TraceError(code, this._line + ahead, detail);
	}

	private _fieldCount(kind: number, n: number): never {
		const names = FIELD_NAMES[kind];
		this._fail(
			'FIELD_COUNT',
			`'${OP_LETTERS[kind]}' takes ${names.length} field${names.length === 1 ? '' : 's'} (${names.join(' ')}), got ${n}`,
		);
	}

	/** Throws for field `field` of op `kind`, whose text starts at `buf[t]`. */
	private _badField(kind: number, field: number, buf: Uint8Array, t: number, e: number): never {
		const name = FIELD_NAMES[kind][field];
		const got = quote(buf, t, tokenEnd(buf, t, e));
		if (name === 'id') this._fail('BAD_ID', `id must be an integer from 1 to ${MAX_ID}, got ${got}`);
		if (name === 'align') this._fail('BAD_ALIGN', `align must be a power of two from 1 to 2^31, got ${got}`);
		this._fail('BAD_SIZE', `size must be a non-negative integer below 2^53, got ${got}`);
	}

	private _deadId(kind: number, id: number, st: number): never {
		if (st === 0) this._fail('UNKNOWN_ID', `${OP_NAMES[kind]} of id ${id}, which was never allocated`);
		this._fail('DEAD_ID', `${OP_NAMES[kind]} of id ${id}, which was already freed`);
	}
}

/** End of the whitespace-delimited token starting at `s`. */
function tokenEnd(buf: Uint8Array, s: number, e: number): number {
	let p = s;
	while (p < e && buf[p] !== SP && buf[p] !== TAB) p++;
	return p;
}

/** `buf[s, e)` as a JSON-quoted string of at most 40 characters, for messages. */
function quote(buf: Uint8Array, s: number, e: number): string {
	// A copy: TextDecoder refuses views of a SharedArrayBuffer.
	const text = _utf8.decode(buf.slice(s, Math.min(e, s + 40)));
	return JSON.stringify(e - s > 40 ? `${text}…` : text);
}
