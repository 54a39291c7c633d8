/** heapfit: public exports only. */
export type { ArrayType, ArrayTypeMap, BlockInfo, HeapOptions, HeapStats, RecoverReport, Violation } from './api.js';
export { type Allocator, Layout } from './allocator.js';
export { AllocError, HeapError, type HeapErrorCode, type PointerReason } from './errors.js';
export { Heap } from './heap.js';
export { LiveView } from './views.js';
export { WASM_EINVAL, WASM_ENOMEM, type WasmImports, wasmImports } from './wasm.js';
export * as layout from './layout.js';
