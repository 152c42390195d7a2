/**
 * A prompt-shaped chat for the golden file: the agent's messages at a fixed state (real task text, seed ideas,
 * four steps of history with code, CSV, a traceback, quotes, tabs and unicode) and an expert action.
 * record-golden.sh runs this file to hand the messages to transformers' apply_chat_template; the parity test
 * builds the same messages and compares.
 */
import { type ChatMessage, promptMessages, promptState } from '../../core/prompt';

export const FIXTURE_STATE = promptState({
  researchProblem:
    'Forecast the monthly CO2 concentration (ppm) at Mauna Loa. train.py fits a model on data/train.csv and writes submission.csv\nwith columns id,co2 for data/test.csv. The metric is RMSE (lower is better).',
  seedIdeas: [{ text: 'Add a linear trend plus yearly sine/cosine features.' }, { text: 'Try gradient boosting with 300 trees and learning rate 0.05.' }],
  history: [
    { response: 'Thought: see the files\nAction: List Files\nAction Input: {"dir_path": "."}', observation: 'data/\ntrain.py\n' },
    { response: 'Thought: look at the data\nAction: Inspect Script Lines\nAction Input: {"script_name": "data/train.csv", "start_line_number": 1, "end_line_number": 3}', observation: 'id,year,month,co2\n0,1958,3,315.71\n1,1958,4,317.45' },
    {
      response: 'Thought: run the starter\nAction: Execute Script\nAction Input: {"script_name": "train.py"}',
      observation: 'Traceback (most recent call last):\n  File "train.py", line 12, in <module>\n\tmodel.fit(X, y)\nValueError: Input contains NaN — «ünïcödé» 東京 😀',
    },
    {
      response: 'Thought: drop the missing rows\nAction: Edit Script\nAction Input: {"script_name": "train.py", "edits": [{"old": "df = pd.read_csv(\\"data/train.csv\\")", "new": "df = pd.read_csv(\\"data/train.csv\\").dropna()"}]}',
      observation: 'The edit was applied.\n',
    },
  ],
});

export const FIXTURE_RESPONSE = 'Thought: run it again\nAction: Execute Script\nAction Input: {"script_name": "train.py"}';

export function fixtureMessages(): ChatMessage[] {
  return [...promptMessages(FIXTURE_STATE), { role: 'assistant', content: FIXTURE_RESPONSE }];
}

if (require.main === module) process.stdout.write(JSON.stringify(fixtureMessages()));
