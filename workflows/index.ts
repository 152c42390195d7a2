// Every workflow the orchestrator worker registers.
export * from './episode';
export * from './sft';
export * from './ideas';
export * from './collect';
export * from './pipeline';
export * from './evaluate';
export * from './ppo';
