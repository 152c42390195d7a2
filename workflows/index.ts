// Every workflow the orchestrator worker registers.
export * from './episode';
