// Activities of the model worker (task queue mlagent-model).
export { sftTrain } from './sft';
export { policyAct } from './policy-act';
export { ppoJoinRollouts, ppoRollout, ppoUpdate } from './ppo';
