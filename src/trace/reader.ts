/**
 * reader.ts: reads an `alloc-trace v1`, plain or gzip'd, from any byte
 * source into a `Trace`. Main entry point: `readTrace(source)`.
 *
 * Browser-safe: no Node API. Gzip is recognised by its magic bytes and
 * inflated with the web-standard `DecompressionStream('gzip')`; the text is
 * decoded chunk by chunk as it arrives (decoder.ts), so neither the
 * compressed nor the decompressed file is ever held whole.
 *
 * ```
 *  source ──► chunks ──► peek 2 bytes ──┬─ 1f 8b ─► DecompressionStream ─┐
 *                                       └─ other ──────────────────────────┴─► TraceDecoder ─► Trace
 * ```
 */
import { TraceDecoder } from './decoder.js';
import { type Trace, TraceError } from './format.js';

/**
 * Where a trace can come from: a byte stream (a `fetch` body, a Node
 * `Readable.toWeb`), any (async) iterable of byte chunks (a Node
 * `fs.createReadStream`), the bytes themselves, or the trace text.
 */
export type TraceSource =
	| ReadableStream<Uint8Array>
	| AsyncIterable<Uint8Array>
	| Iterable<Uint8Array>
	| Uint8Array
	| ArrayBuffer
	| string;

/** Characters of a string source encoded at a time (then up to the next line end). */
const STRING_CHUNK = 1 << 16;

/**
 * Reads and validates a whole trace from `source`, gzip'd or not. Rejects
 * with a TraceError (with a 1-based line number) on bad input; errors of the
 * source itself (a failed read) are passed through unchanged.
 */
export async function readTrace(source: TraceSource): Promise<Trace> {
	const decoder = new TraceDecoder();
	if (typeof source === 'string') {
		_pushString(decoder, source);
		return decoder.finish();
	}
	if (source instanceof ArrayBuffer) source = new Uint8Array(source);
	if (source instanceof Uint8Array && !isGzip(source)) {
		decoder.push(source);
		return decoder.finish();
	}
	const chunks = source instanceof Uint8Array ? _once(source) : _chunks(source);
	const { head, rest } = await _peek(chunks, 2);
	const text = isGzip(head) ? _gunzip(rest, decoder) : rest;
	for await (const chunk of text) decoder.push(chunk);
	return decoder.finish();
}

/** Whether `bytes` starts with the gzip magic bytes 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
	return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Pushes a string to `decoder` in slices that end at line ends (never inside a character). */
function _pushString(decoder: TraceDecoder, text: string): void {
	const encoder = new TextEncoder();
	for (let i = 0; i < text.length; ) {
		const nl = text.indexOf('\n', i + STRING_CHUNK);
		const end = nl < 0 ? text.length : nl + 1;
		decoder.push(encoder.encode(text.slice(i, end)));
		i = end;
	}
}

/** One chunk as an async iterable. */
async function* _once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
	yield bytes;
}

/** Any non-string source as an async iterable of non-empty chunks. */
async function* _chunks(
	source: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): AsyncGenerator<Uint8Array> {
	if (typeof (source as ReadableStream<Uint8Array>).getReader === 'function') {
		// Not `for await`: ReadableStream is not async-iterable in every browser.
		const reader = (source as ReadableStream<Uint8Array>).getReader();
		let done = false;
		try {
			for (;;) {
				const r = await reader.read();
				if (r.done) {
					done = true;
					return;
				}
				if (r.value.length > 0) yield r.value;
			}
		} finally {
			if (!done) await reader.cancel().catch(() => {});
			reader.releaseLock();
		}
	}
	for await (const chunk of source as AsyncIterable<Uint8Array> | Iterable<Uint8Array>) {
		if (!(chunk instanceof Uint8Array)) throw new TypeError('readTrace: source chunks must be Uint8Array');
		if (chunk.length > 0) yield chunk;
	}
}

/** Reads chunks until `n` bytes are seen; returns those bytes and all chunks, head included. */
async function _peek(
	chunks: AsyncGenerator<Uint8Array>,
	n: number,
): Promise<{ head: Uint8Array; rest: AsyncGenerator<Uint8Array> }> {
	const seen: Uint8Array[] = [];
	const head = new Uint8Array(n);
	let got = 0;
	while (got < n) {
		const r = await chunks.next();
		if (r.done) break;
		seen.push(r.value);
		const take = Math.min(n - got, r.value.length);
		head.set(r.value.subarray(0, take), got);
		got += take;
	}
	async function* rest(): AsyncGenerator<Uint8Array> {
		try {
			yield* seen;
			yield* chunks;
		} finally {
			// Stopped early (even inside `seen`): let the source clean up.
			await chunks.return(undefined);
		}
	}
	return { head: head.subarray(0, got), rest: rest() };
}

/**
 * Inflates gzip'd `chunks`. A writer task feeds the DecompressionStream
 * while this generator reads from it, so backpressure cannot deadlock.
 * Corrupt or truncated gzip data becomes TraceError BAD_INPUT at the line
 * the decoder had reached; a failing source rethrows its own error.
 */
async function* _gunzip(chunks: AsyncGenerator<Uint8Array>, decoder: TraceDecoder): AsyncGenerator<Uint8Array> {
	const inflate = new DecompressionStream('gzip');
	const writer = inflate.writable.getWriter();
	const reader = inflate.readable.getReader();
	let sourceError: { error: unknown } | null = null;
	const feeding = (async () => {
		try {
			for (;;) {
				let r: IteratorResult<Uint8Array>;
				try {
					r = await chunks.next();
				} catch (error) {
					sourceError = { error };
					await writer.abort(error).catch(() => {});
					return;
				}
				if (r.done) break;
				// DecompressionStream refuses views of a SharedArrayBuffer: copy those.
				const chunk = r.value.buffer instanceof ArrayBuffer ? r.value : r.value.slice();
				await writer.write(chunk as Uint8Array<ArrayBuffer>);
			}
			await writer.close();
		} catch {
			// The readable side failed or was cancelled; the reading loop reports it.
			await chunks.return(undefined).catch(() => {});
		}
	})();
	let done = false;
	try {
		for (;;) {
			let r: ReadableStreamReadResult<Uint8Array>;
			try {
				r = await reader.read();
			} catch (error) {
				await feeding;
				if (sourceError !== null) throw (sourceError as { error: unknown }).error;
				const why = error instanceof Error ? error.message : String(error);
				throw new TraceError('BAD_INPUT', decoder.lines + 1, `corrupt or truncated gzip data (${why})`);
			}
			if (r.done) {
				done = true;
				break;
			}
			yield r.value;
		}
	} finally {
		if (!done) await reader.cancel().catch(() => {});
		await feeding;
	}
}
