import { JobFailure } from '../job-failure.js';
import { describePosition } from './text-position.js';

/**
 * Checks that a JSON file of a release is strict JSON (no comments, no trailing commas), with a
 * failure that names the file and the line and column of the first problem and a generic reason,
 * never an excerpt of the contents (which may hold a substituted secret).
 */
export function parseJsonFile(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const problem = locateJsonProblem(text);
    throw new JobFailure('configuration-failed', `${file} is not valid JSON (${describePosition(text, problem.offset)}): ${problem.reason}`);
  }
}

interface JsonProblem {
  offset: number;
  reason: string;
}

class Located {
  constructor(readonly problem: JsonProblem) {}
}

/** Most nesting the locator follows (JSON.parse has refused the text already; this only says where). */
const MAX_DEPTH = 10_000;

/** Where and why `text` is not JSON (a small validating scanner: JSON.parse does not always say where). */
export function locateJsonProblem(text: string): JsonProblem {
  let i = 0;
  const fail = (reason: string): never => {
    throw new Located({ offset: i, reason });
  };
  const space = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const next = text[i + 1];
        if (next !== undefined && '"\\/bfnrt'.includes(next)) i += 2;
        else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail('invalid escape in a string');
      } else if (c.charCodeAt(0) < 0x20) fail('line break or control character inside a string');
      else i++;
    }
    fail('unterminated string');
  };
  const value = (depth: number): void => {
    space();
    if (i >= text.length) fail('unexpected end of the file');
    if (depth > MAX_DEPTH) fail('nested too deeply');
    const c = text[i]!;
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          space();
          if (text[i] !== '"') fail(i >= text.length ? 'unexpected end of the file' : 'expected a property name in double quotes');
          string();
          space();
          if (text[i] !== ':') fail("expected ':' after a property name");
          i++;
        }
        value(depth + 1);
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          return;
        }
        fail(i >= text.length ? 'unexpected end of the file' : `expected ',' or '${close}'`);
      }
    }
    if (c === '"') return string();
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = i;
    if ((c === '-' || (c >= '0' && c <= '9')) && number.test(text)) {
      i = number.lastIndex;
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    // the character itself is not named: the file may hold a substituted secret
    fail('unexpected character');
  };
  try {
    if (text.startsWith('\ufeff')) i = 1;
    value(0);
    space();
    if (i < text.length) fail('unexpected text after the end of the JSON value');
  } catch (problem: unknown) {
    if (problem instanceof Located) return problem.problem;
    throw problem;
  }
  return { offset: 0, reason: 'not valid JSON' };
}
