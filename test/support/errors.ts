/** Assertion helpers for HeapError, shared by the tests. */
import assert from 'node:assert/strict';
import { HeapError } from '../../src/index.js';

/** Runs `fn` and returns what it threw (undefined when it returned). */
export function caught(fn: () => unknown): unknown {
	try {
		fn();
	} catch (e) {
		return e;
	}
	return undefined;
}

/** Runs `fn`, asserts it throws a HeapError with `code`, and returns that error. */
export function throwsCode(fn: () => unknown, code: string): HeapError {
	const err = caught(fn);
	assert.ok(err instanceof HeapError, `expected HeapError ${code}, got ${String(err)}`);
	assert.equal(err.code, code, err.message);
	return err;
}
