import { z } from 'zod';

/** The MLAgentBench action set (DESIGN.md): names are exactly what the agent writes after `Action:`. */
export const ActionInputs = {
  'List Files': z.object({ dir_path: z.string().min(1) }).strict(),
  'Read File': z.object({ file_name: z.string().min(1) }).strict(),
  'Inspect Script Lines': z
    .object({
      script_name: z.string().min(1),
      start_line_number: z.coerce.number().int().positive(),
      end_line_number: z.coerce.number().int().positive(),
    })
    .strict()
    .refine((v) => v.end_line_number >= v.start_line_number, {
      message: 'end_line_number must be >= start_line_number',
      path: ['end_line_number'],
    }),
  'Understand File': z.object({ file_name: z.string().min(1), things_to_look_for: z.string() }).strict(),
  'Edit Script': z
    .object({
      script_name: z.string().min(1),
      edits: z.array(z.object({ old: z.string().min(1), new: z.string() }).strict()).min(1),
    })
    .strict(),
  'Edit Script (AI)': z
    .object({ script_name: z.string().min(1), edit_instruction: z.string().min(1), save_name: z.string().min(1) })
    .strict(),
  'Undo Edit Script': z.object({ script_name: z.string().min(1) }).strict(),
  'Execute Script': z.object({ script_name: z.string().min(1) }).strict(),
  'Final Answer': z.object({ final_answer: z.string() }).strict(),
} as const;

export type ActionName = keyof typeof ActionInputs;
export const ACTION_NAMES = Object.keys(ActionInputs) as ActionName[];

export type Action = {
  [K in ActionName]: { name: K; input: z.infer<(typeof ActionInputs)[K]> };
}[ActionName];

