// JSON text from outside, without files (the browser build uses it): one-line parse errors.
import { BertError } from '../errors.ts';

/** An error message on one line: V8's JSON errors quote the text around the bad token, newlines included. */
export function oneLine(message: string): string {
  return message.replace(/\s*[\r\n\u2028\u2029]+\s*/g, ' ');
}

/** `JSON.parse(text)`, or a one-line BertError at `where` starting with `what` ("config is not valid JSON"). */
export function parseJson(text: string, where: string, what = 'not valid JSON'): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BertError(`${what} (${oneLine((err as Error).message)})`, where);
  }
}
