/** Tests start the same private stack as the benchmarks (workers/test-stack.ts): one implementation. */
export { startModelWorkerProcess, startTestStack, type TestStack } from '../../workers/test-stack';
