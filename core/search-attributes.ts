import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes (registered on the dev server by temporal-config): filter runs in the UI by task or stage. */
export const MLAGENT_TASK = defineSearchAttributeKey('MlagentTask', SearchAttributeType.KEYWORD);
export const MLAGENT_STAGE = defineSearchAttributeKey('MlagentStage', SearchAttributeType.KEYWORD);
export const ALL_SEARCH_ATTRIBUTES = [MLAGENT_TASK, MLAGENT_STAGE];
