/**
 * program.ts: loads the example's wasm module and runs it on a heapfit
 * heap (or on the allocator linked into it, for the benchmark). Main entry
 * point: `startProgram(bytes, options)`; run.ts, test/wasm.test.ts and
 * bench/wasm.ts all go through it.
 *
 * The heap must start at the module's `__heap_base`, above its data and
 * stack, and the memory must be at least as large as the module's import
 * asks for; both are read from the binary (`readModuleLayout`) before
 * instantiating, because the heap and its imports have to exist first.
 *
 * ```
 *  0            data   stack   __heap_base                       memory end
 *  ├──────────────────────────┼────────────────────────────────────────┤
 *  │ the module's own bytes   │ heapfit region: root, tables, blocks   │
 *  └──────────────────────────┴────────────────────────────────────────┘
 * ```
 */
import { Heap } from '../../src/index.js';
import { type WasmImports, wasmImports } from '../../src/wasm.js';

/**
 * Whether the heap starts small and grows the memory on demand
 * (`new Heap({ memory, offset, grow: true })`) instead of being given a
 * fixed memory of `heapBytes` up front.
 */
export const GROW = true;

const PAGE_BYTES = 65536;

/** What the runner needs from a module before instantiating it. */
export interface ModuleLayout {
	/** Minimum pages of the imported `env.memory`. */
	minPages: number;
	/** Value of the exported global `__heap_base`. */
	heapBase: number;
}

/** A cursor over a wasm binary, with LEB128 readers. */
class Reader {
	/** Offset of the next byte to read. */
	pos = 0;
	constructor(readonly bytes: Uint8Array) {}
	/** One byte. */
	u8(): number {
		if (this.pos >= this.bytes.length) throw new Error('wasm binary: unexpected end');
		return this.bytes[this.pos++];
	}
	/** An unsigned LEB128 number. */
	uleb(): number {
		let result = 0;
		for (let shift = 0; ; shift += 7) {
			const b = this.u8();
			result += (b & 0x7f) * 2 ** shift;
			if ((b & 0x80) === 0) return result;
		}
	}
	/** A signed LEB128 number. */
	sleb(): number {
		let result = 0;
		let shift = 0;
		let b: number;
		do {
			b = this.u8();
			result += (b & 0x7f) * 2 ** shift;
			shift += 7;
		} while ((b & 0x80) !== 0);
		return (b & 0x40) !== 0 ? result - 2 ** shift : result;
	}
	/** A length-prefixed UTF-8 name. */
	name(): string {
		const n = this.uleb();
		const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
		this.pos += n;
		return s;
	}
	/** A constant expression: its value when it is an i32.const, else null. */
	constExpr(): number | null {
		const op = this.u8();
		let value: number | null = null;
		if (op === 0x41) value = this.sleb() >>> 0;
		else if (op === 0x42 || op === 0x23) this.sleb(); // i64.const, global.get
		else if (op === 0x43 || op === 0x44) this.pos += op === 0x43 ? 4 : 8; // f32/f64.const
		else throw new Error(`wasm binary: unexpected opcode ${op} in a constant expression`);
		if (this.u8() !== 0x0b) throw new Error('wasm binary: constant expression not ended');
		return value;
	}
	/** Limits: returns the minimum. */
	limits(): number {
		const flags = this.uleb();
		const min = this.uleb();
		if ((flags & 1) !== 0) this.uleb();
		return min;
	}
}

/**
 * Reads the imported memory's minimum size and `__heap_base` (an i32.const
 * global) from the import, global and export sections of a wasm binary.
 */
export function readModuleLayout(bytes: Uint8Array<ArrayBuffer>): ModuleLayout {
	const r = new Reader(bytes);
	r.pos = 8; // magic and version
	let minPages = -1;
	let importedGlobals = 0;
	const globals: (number | null)[] = [];
	let heapBaseGlobal = -1;
	while (r.pos < bytes.length) {
		const id = r.u8();
		const size = r.uleb();
		const end = r.pos + size;
		if (id === 2) {
			for (let n = r.uleb(); n > 0; n--) {
				const module = r.name();
				const field = r.name();
				const kind = r.u8();
				if (kind === 0) {
					r.uleb(); // type index
				} else if (kind === 1) {
					r.u8(); // element type
					r.limits();
				} else if (kind === 2) {
					const min = r.limits();
					if (module === 'env' && field === 'memory') minPages = min;
				} else if (kind === 3) {
					r.u8(); // value type
					r.u8(); // mutability
					importedGlobals++;
				} else {
					throw new Error(`wasm binary: unknown import kind ${kind}`);
				}
			}
		} else if (id === 6) {
			for (let n = r.uleb(); n > 0; n--) {
				r.u8(); // value type
				r.u8(); // mutability
				globals.push(r.constExpr());
			}
		} else if (id === 7) {
			for (let n = r.uleb(); n > 0; n--) {
				const field = r.name();
				const kind = r.u8();
				const index = r.uleb();
				if (field === '__heap_base' && kind === 3) heapBaseGlobal = index;
			}
		}
		r.pos = end;
	}
	if (minPages < 0) throw new Error('wasm module does not import env.memory (link with -Wl,--import-memory)');
	const heapBase = heapBaseGlobal < 0 ? null : globals[heapBaseGlobal - importedGlobals];
	if (heapBase === null || heapBase === undefined) {
		throw new Error('wasm module does not export __heap_base as a constant (link with -Wl,--export=__heap_base)');
	}
	return { minPages, heapBase };
}

/** Options for `startProgram`. */
export interface ProgramOptions {
	/**
	 * `'heapfit'`: import malloc & co. from `wasmImports(heap)`.
	 * `'linked'`: the module brings its own allocator (the benchmark's
	 * dlmalloc build); no heap is made.
	 * @defaultValue 'heapfit'
	 */
	allocator?: 'heapfit' | 'linked';
	/**
	 * Bytes of memory above the module's own, for a fixed heap (or the
	 * linked allocator's first arena). Ignored when the heap grows.
	 * @defaultValue 64 MiB
	 */
	heapBytes?: number;
	/**
	 * Start the memory one page above the module's own and let the
	 * allocator grow it (heapfit: `grow: true`; a linked allocator grows it
	 * itself, e.g. through `sbrk`).
	 * @defaultValue GROW
	 */
	grow?: boolean;
	/** `bytes` already compiled, to instantiate again without compiling. */
	module?: WebAssembly.Module;
	/** Wraps the allocator imports, e.g. to count calls. */
	wrap?: (imports: WasmImports) => WasmImports;
	/** Called with every line the program prints. @defaultValue collect only */
	onLine?: (line: string) => void;
}

/** An instantiated example module. */
export interface Program {
	/** Runs the program at `scale`; returns its checksum. */
	run(scale: number): number;
	/** Every line printed so far. */
	lines: string[];
	memory: WebAssembly.Memory;
	/** The heap serving the module (null for a linked allocator). */
	heap: Heap | null;
	layout: ModuleLayout;
}

/** Instantiates the example module in `bytes` over a new memory. */
export function startProgram(bytes: Uint8Array<ArrayBuffer>, options: ProgramOptions = {}): Program {
	const { allocator = 'heapfit', heapBytes = 64 << 20, grow = GROW, onLine } = options;
	const layout = readModuleLayout(bytes);
	const heapPages = grow ? 1 : Math.ceil(heapBytes / PAGE_BYTES);
	const memory = new WebAssembly.Memory({ initial: layout.minPages + heapPages });
	const lines: string[] = [];
	const decoder = new TextDecoder();
	const env: Record<string, WebAssembly.ImportValue> = {
		memory,
		print_line: (ptr: number, len: number) => {
			const line = decoder.decode(new Uint8Array(memory.buffer, ptr >>> 0, len >>> 0));
			lines.push(line);
			onLine?.(line);
		},
	};
	let heap: Heap | null = null;
	if (allocator === 'heapfit') {
		heap = grow ? new Heap({ memory, offset: layout.heapBase, grow: true }) : new Heap({ memory, offset: layout.heapBase });
		const imports = wasmImports(heap);
		Object.assign(env, options.wrap ? options.wrap(imports) : imports);
	}
	const instance = new WebAssembly.Instance(options.module ?? new WebAssembly.Module(bytes), { env });
	const run = instance.exports.run as (scale: number) => number;
	return { run: (scale) => run(scale) >>> 0, lines, memory, heap, layout };
}
