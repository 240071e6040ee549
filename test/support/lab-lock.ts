// Test files that build the lab wait for the lab lock (src/lab/lock.ts) in beforeAll.
export { acquireLabLock } from '../../src/lab/lock';
