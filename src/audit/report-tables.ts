/** A table to print: a header row, data rows, and which columns hold numbers. */
export interface Table {
  header: string[];
  rows: string[][];
  /** Columns aligned to the right (numbers). */
  numeric?: boolean[];
}

// Control characters could move the cursor or recolour a terminal, and bidirectional
// overrides could make one id read as another; caller ids, room ids and reasons come from
// outside, so they are shown escaped.
const isC0 = (code: number): boolean => code <= 0x1f;
const isDeleteOrC1 = (code: number): boolean => code >= 0x7f && code <= 0x9f;
const isDirection = (code: number): boolean =>
  code === 0x061c ||
  code === 0x200e ||
  code === 0x200f ||
  (code >= 0x202a && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069);

/** Replaces characters that would act on a terminal or a viewer with visible `\uXXXX` escapes. */
export function printable(text: unknown): string {
  // A tampered store can hold any type in a text column; show it rather than crash.
  return escapeWhere(
    typeof text === 'string' ? text : String(text),
    (code) => isC0(code) || isDeleteOrC1(code) || isDirection(code),
  );
}

/**
 * The same for JSON text: escapes what JSON.stringify leaves raw and keeps its line breaks.
 * Only use on JSON.stringify output, where C0 controls inside strings are escaped already.
 */
export function printableJson(json: string): string {
  return escapeWhere(json, (code) => isDeleteOrC1(code) || isDirection(code));
}

function escapeWhere(text: string, unsafe: (code: number) => boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    out += unsafe(code) ? `\\u${code.toString(16).padStart(4, '0')}` : text.charAt(i);
  }
  return out;
}

/** The lines of a table in plain text, columns padded to line up, two spaces apart. */
export function textTable(table: Table, indent = '  '): string[] {
  const rows = [table.header, ...table.rows].map((row) => row.map(printable));
  const widths = table.header.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? '').length)),
  );
  return rows.map((row) => {
    const cells = widths.map((width, column) => {
      const cell = row[column] ?? '';
      return table.numeric?.[column] === true ? cell.padStart(width) : cell.padEnd(width);
    });
    return `${indent}${cells.join('  ')}`.trimEnd();
  });
}

/**
 * The lines of a GitHub-flavoured Markdown table. Cells from outside are set as code spans so
 * that no Markdown in them takes effect.
 */
export function markdownTable(table: Table, literal: boolean[] = []): string[] {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  const rule = table.header.map((_, column) => (table.numeric?.[column] === true ? '---:' : '---'));
  const body = table.rows.map((row) =>
    line(row.map((cell, column) => (literal[column] === true ? codeSpan(cell) : cell))),
  );
  return [line(table.header), line(rule), ...body];
}

/** Text shown verbatim in Markdown, safe inside a table cell. */
export function codeSpan(text: string): string {
  if (text === '') return '';
  const safe = printable(text).replace(/\|/g, '\\|');
  const longestRun = Math.max(0, ...(safe.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longestRun + 1);
  const pad = safe.startsWith('`') || safe.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${safe}${pad}${fence}`;
}

/** An integer with thousands separators, the same on every machine. */
export function groupDigits(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
