/** Assertion helpers for HeapError, shared by the tests. */
import assert from 'node:assert/strict';
import { HeapError } from '../../src/index.js';

/** Runs `fn`, asserts it throws a HeapError with `code`, and returns that error. */
export function throwsCode(fn: () => unknown, code: string): HeapError {
	let err: unknown;
	try {
		fn();
	} catch (e) {
		err = e;
	}
	assert.ok(err instanceof HeapError, `expected HeapError ${code}, got ${String(err)}`);
	assert.equal(err.code, code, err.message);
	return err;
}
