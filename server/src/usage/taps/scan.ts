// Cheap string scans over raw JSON text, so the hot path can skip JSON.parse for events
// that cannot carry usage and can still measure streamed text for estimates.

const QUOTE = 34;
const BACKSLASH = 92;
const COLON = 58;

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function skipSpace(json: string, i: number): number {
  while (i < json.length && isSpace(json.charCodeAt(i))) i++;
  return i;
}

/**
 * Index of the first character of the value that follows `needle` (a quoted key such as
 * `"usage"`) used as an object key at or after `from`, or -1.
 */
function valueStart(json: string, needle: string, from: number): number {
  let pos = json.indexOf(needle, from);
  while (pos !== -1) {
    let i = skipSpace(json, pos + needle.length);
    if (json.charCodeAt(i) === COLON) {
      i = skipSpace(json, i + 1);
      if (i < json.length) return i;
    }
    pos = json.indexOf(needle, pos + 1);
  }
  return -1;
}

/**
 * Sum of the decoded lengths of every string value stored under the key `needle` (the key
 * with its quotes, e.g. `"content"`). An escape sequence counts as one character.
 */
export function stringValueChars(json: string, needle: string): number {
  let total = 0;
  let at = valueStart(json, needle, 0);
  while (at !== -1) {
    let i = at;
    if (json.charCodeAt(i) === QUOTE) {
      i++;
      while (i < json.length) {
        const c = json.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === BACKSLASH) i += json.charCodeAt(i + 1) === 117 /* u */ ? 6 : 2;
        else i++;
        total++;
      }
    }
    at = valueStart(json, needle, i + 1);
  }
  return total;
}

/** The first string value stored under the key `needle`, decoded; undefined if none. */
export function stringValue(json: string, needle: string): string | undefined {
  const at = valueStart(json, needle, 0);
  if (at === -1 || json.charCodeAt(at) !== QUOTE) return undefined;
  let i = at + 1;
  let escaped = false;
  while (i < json.length) {
    const c = json.charCodeAt(i);
    if (c === QUOTE) break;
    if (c === BACKSLASH) {
      escaped = true;
      i += 2;
    } else i++;
  }
  if (i >= json.length) return undefined;
  const raw = json.slice(at + 1, i);
  if (!escaped) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return undefined;
  }
}

/** Whether some key `needle` holds an object (not null), e.g. OpenAI's final `"usage":{...}`. */
export function hasObjectValue(json: string, needle: string): boolean {
  let at = valueStart(json, needle, 0);
  while (at !== -1) {
    if (json.charCodeAt(at) === 123 /* { */) return true;
    at = valueStart(json, needle, at + 1);
  }
  return false;
}

const ERROR_FIRST = /^\s*\{\s*"error"\s*:/;

/** Whether the JSON text is an object whose first key is "error" (an in-stream error body). */
export function startsWithErrorKey(json: string): boolean {
  return ERROR_FIRST.test(json);
}
