import { FittedPrompt, fitPrompt } from '../core/prompt-budget';
import type { ChatMessage, PromptState } from '../core/prompt';
import { ChatTemplate } from './chat-template';
import type { CheckpointFiles } from './checkpoint';
import type { Tokenizer } from './tokenizer';

/** Rendering for checkpoints without a chat template (the tiny random models of the tests). */
function plainRender(messages: ChatMessage[], addGenerationPrompt: boolean): string {
  const turns = messages.map((m) => `${m.role[0].toUpperCase()}${m.role.slice(1)}:\n${m.content}\n\n`).join('');
  return turns + (addGenerationPrompt ? 'Assistant:\n' : '');
}

/**
 * Turns chat messages into a model's text and tokens: with the checkpoint's own template (tokenizer_config.json)
 * when it has one, else with a plain "Role:" rendering. Training and acting both go through here, so the text
 * a policy learns to continue is the text it is later asked to continue.
 */
export class PromptRenderer {
  constructor(private readonly tokenizer: Tokenizer, readonly template?: ChatTemplate) {}

  static forCheckpoint(files: CheckpointFiles, tokenizer: Tokenizer, source = 'checkpoint'): PromptRenderer {
    return new PromptRenderer(tokenizer, ChatTemplate.fromCheckpoint(files, source));
  }

  /** The text the model continues: the messages and the template's opening of an assistant turn. */
  prompt(messages: ChatMessage[]): string {
    return this.template ? this.template.render(messages, { addGenerationPrompt: true }) : plainRender(messages, true);
  }

  promptTokens(messages: ChatMessage[]): number {
    return this.tokenizer.encode(this.prompt(messages)).length;
  }

  /**
   * Token ids of the assistant's turn after `prompt(messages)`: the response and the end-of-turn token (the EOS
   * generation stops at). What a template writes after that token (a newline) is no part of the action.
   */
  completionIds(messages: ChatMessage[], response: string): number[] {
    const eos = this.tokenizer.eosId;
    if (!this.template) return [...this.tokenizer.encode(response), eos];
    const before = this.prompt(messages);
    const full = this.template.render([...messages, { role: 'assistant', content: response }], { addGenerationPrompt: false });
    if (!full.startsWith(before)) throw new Error('the chat template renders a conversation that does not start with its own generation prompt; it cannot be used for training');
    const ids = this.tokenizer.encode(full.slice(before.length));
    const end = ids.indexOf(eos);
    return end >= 0 ? ids.slice(0, end + 1) : [...ids, eos];
  }

  /** The state's prompt within `budget` tokens (core/prompt-budget.ts), rendered. */
  fit(state: PromptState, budget: number): FittedPrompt & { text: string } {
    const fitted = fitPrompt({ state, budget, countTokens: (m) => this.promptTokens(m) });
    return { ...fitted, text: this.prompt(fitted.messages) };
  }
}
