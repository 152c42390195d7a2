import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (registered on the dev server by temporal-config): filter runs in the UI by task or stage. */
export const MLAGENT_TASK = defineSearchAttributeKey('MlagentTask', SearchAttributeType.KEYWORD);
export const MLAGENT_STAGE = defineSearchAttributeKey('MlagentStage', SearchAttributeType.KEYWORD);
/** A PPO run's finished iterations (over the whole continue-as-new chain) and its last iteration's mean reward. */
export const MLAGENT_PPO_ITERATION = defineSearchAttributeKey('MlagentPpoIteration', SearchAttributeType.INT);
export const MLAGENT_PPO_MEAN_REWARD = defineSearchAttributeKey('MlagentPpoMeanReward', SearchAttributeType.DOUBLE);
/** A pipeline's stage now (collect, sft, ppo, evaluate, paused, done, stopped) and its best held-out mean Δ_r. */
export const MLAGENT_PIPELINE_STAGE = defineSearchAttributeKey('MlagentPipelineStage', SearchAttributeType.KEYWORD);
export const MLAGENT_BEST_SCORE = defineSearchAttributeKey('MlagentBestScore', SearchAttributeType.DOUBLE);
export const ALL_SEARCH_ATTRIBUTES = [MLAGENT_TASK, MLAGENT_STAGE, MLAGENT_PPO_ITERATION, MLAGENT_PPO_MEAN_REWARD, MLAGENT_PIPELINE_STAGE, MLAGENT_BEST_SCORE];
