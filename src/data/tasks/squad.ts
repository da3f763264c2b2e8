// SQuAD v1.1 / v2.0 JSON files (`{version, data: [{title, paragraphs: [{context, qas}]}]}`).
import { BertError } from '../../errors.ts';
import { oneLine } from '../../io/json-text.ts';
import { readText } from './lines.ts';
import type { SquadExample } from './types.ts';

function fail(path: string, at: string, message: string): never {
  throw new BertError(`${message} (at ${at})`, path);
}

/**
 * One example per question. Answers are checked against their span: a `text` that is not
 * `context.slice(answer_start, answer_start + text.length)` is an error naming the question.
 */
export function readSquad(path: string): SquadExample[] {
  let json: unknown;
  try {
    json = JSON.parse(readText(path));
  } catch (e) {
    if (e instanceof BertError) throw e;
    throw new BertError(`bad JSON: ${oneLine((e as Error).message)}`, path);
  }
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) fail(path, 'top level', 'expected {"data": [...]} as SQuAD files have');
  const out: SquadExample[] = [];
  data.forEach((article: any, ai: number) => {
    if (!Array.isArray(article?.paragraphs)) fail(path, `data[${ai}]`, 'article has no paragraphs');
    article.paragraphs.forEach((p: any, pi: number) => {
      const at = `data[${ai}].paragraphs[${pi}]`;
      if (typeof p?.context !== 'string' || !Array.isArray(p.qas)) fail(path, at, 'paragraph needs context and qas');
      for (const qa of p.qas) {
        const where = `${path}: question ${qa?.id}`;
        if (typeof qa?.id !== 'string' || typeof qa.question !== 'string') fail(path, at, 'question needs id and question');
        const answers = Array.isArray(qa.answers) ? qa.answers : [];
        for (const a of answers) {
          if (typeof a?.text !== 'string' || !Number.isInteger(a.answer_start)) {
            fail(path, `question ${qa.id}`, 'answer needs text and an integer answer_start');
          }
          const span = p.context.slice(a.answer_start, a.answer_start + a.text.length);
          if (span !== a.text) {
            fail(path, `question ${qa.id}`, `answer ${JSON.stringify(a.text)} does not match its span ${JSON.stringify(span)} at ${a.answer_start}`);
          }
        }
        out.push({
          id: qa.id,
          question: qa.question,
          context: p.context,
          answers: answers.map((a: any) => ({ text: a.text, answer_start: a.answer_start })),
          is_impossible: qa.is_impossible === true,
          where,
        });
      }
    });
  });
  if (out.length === 0) throw new BertError('no questions', path);
  return out;
}
