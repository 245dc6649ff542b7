/**
 * vitest setup file: claims this test process's port block before the test file
 * loads (test/support/ports.ts), so synchronous callers have it.
 */
import { claimPortBlock } from './ports.js';

await claimPortBlock();
