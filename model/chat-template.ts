import { Template } from '@huggingface/jinja';
import { z } from 'zod';
import { ChatMessage } from '../core/prompt';
import { describeIssues } from '../core/zod-issues';
import { CheckpointFiles } from './checkpoint';

/**
 * A model's own chat template (Jinja, from tokenizer_config.json) rendered with Hugging Face's JS port of
 * transformers' renderer, with the variables transformers passes (messages, add_generation_prompt, special tokens).
 */

export { ChatMessage };

const TokenizerConfig = z.object({
  chat_template: z.string().nullable().optional(),
  bos_token: z.string().nullable().optional(),
  eos_token: z.string().nullable().optional(),
}).passthrough();

export class ChatTemplate {
  private readonly template: Template;

  constructor(readonly source: string, private readonly specials: { bos_token?: string | null; eos_token?: string | null } = {}) {
    this.template = new Template(source);
  }

  /** The template of a checkpoint's tokenizer_config.json, or undefined when it has none. */
  static fromCheckpoint(files: CheckpointFiles, source = 'checkpoint'): ChatTemplate | undefined {
    const buf = files.get('tokenizer_config.json');
    if (!buf) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw new Error(`${source}/tokenizer_config.json: not valid JSON (${(err as Error).message})`);
    }
    const r = TokenizerConfig.safeParse(raw);
    if (!r.success) throw new Error(`${source}/tokenizer_config.json: ${describeIssues(r.error)}`);
    return r.data.chat_template ? new ChatTemplate(r.data.chat_template, r.data) : undefined;
  }

  render(messages: ChatMessage[], opts: { addGenerationPrompt: boolean }): string {
    const msgs = z.array(ChatMessage).parse(messages);
    return this.template.render({ messages: msgs, add_generation_prompt: opts.addGenerationPrompt, bos_token: this.specials.bos_token ?? '', eos_token: this.specials.eos_token ?? '' });
  }
}
