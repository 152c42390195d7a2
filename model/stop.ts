import { balancedObjectEnd } from '../core/json-scan';

/**
 * Where a response ends: right after the JSON object that follows `Action Input:` closes (braces counted
 * outside strings). Returns the end offset, or undefined while the object is still open.
 */
export function actionInputEnd(text: string): number | undefined {
  const at = text.indexOf('Action Input:');
  if (at < 0) return undefined;
  const open = text.indexOf('{', at);
  return open < 0 ? undefined : balancedObjectEnd(text, open);
}
