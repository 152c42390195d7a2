import { ApiError } from './openai-wire';

/**
 * Runs jobs one after another (a policy's generation holds its KV cache and the CPU: two at once would double
 * memory and halve each one's speed). At most `maxWaiting` jobs wait; more are refused with 429, which clients
 * (ours included) retry.
 */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();
  private waiting = 0;

  constructor(private readonly maxWaiting: number) {}

  run<T>(job: () => Promise<T>): Promise<T> {
    if (this.waiting >= this.maxWaiting) return Promise.reject(new ApiError(429, `the server is busy: ${this.waiting} requests are already waiting for the one being generated`, { type: 'server_busy', code: 'rate_limit_exceeded' }));
    this.waiting++;
    const result = this.tail.then(() => {
      this.waiting--;
      return job();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}
