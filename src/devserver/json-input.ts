import { badJson } from './matrix-error.js';

/** A parsed JSON object from a request body, not yet trusted beyond being an object. */
export type JsonObject = { [key: string]: unknown };

/** True when `value` is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Renders a rejected value for an error message: short, one line, never the whole input. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  let text: string;
  try {
    text = JSON.stringify(value) ?? typeof value;
  } catch {
    text = typeof value;
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The string at `body[field]`, or undefined when absent; any other type is M_BAD_JSON. */
export function optionalString(body: JsonObject, field: string, path = field): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw badJson(`'${path}' must be a string, got ${describeValue(value)}`);
  }
  return value;
}

/** The string at `body[field]`; absent or of another type is M_BAD_JSON. */
export function requireString(body: JsonObject, field: string, path = field): string {
  const value = optionalString(body, field, path);
  if (value === undefined) throw badJson(`'${path}' is required`);
  return value;
}

/** The boolean at `body[field]`, or `fallback` when absent. */
export function optionalBoolean(
  body: JsonObject,
  field: string,
  fallback: boolean,
  path = field,
): boolean {
  const value = body[field];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') {
    throw badJson(`'${path}' must be a boolean, got ${describeValue(value)}`);
  }
  return value;
}

/** The object at `body[field]`, or undefined when absent. */
export function optionalObject(
  body: JsonObject,
  field: string,
  path = field,
): JsonObject | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) {
    throw badJson(`'${path}' must be an object, got ${describeValue(value)}`);
  }
  return value;
}

/** The array at `body[field]` (empty when absent), each element checked by `item`. */
export function optionalArray<T>(
  body: JsonObject,
  field: string,
  item: (value: unknown, path: string) => T,
  path = field,
): T[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    throw badJson(`'${path}' must be an array, got ${describeValue(value)}`);
  }
  return value.map((element, index) => item(element, `${path}[${index}]`));
}

/** Checks one array element is a string. */
export function stringItem(value: unknown, path: string): string {
  if (typeof value !== 'string') {
    throw badJson(`'${path}' must be a string, got ${describeValue(value)}`);
  }
  return value;
}

/** Checks one array element is an object. */
export function objectItem(value: unknown, path: string): JsonObject {
  if (!isJsonObject(value)) {
    throw badJson(`'${path}' must be an object, got ${describeValue(value)}`);
  }
  return value;
}

/** JSON text with object keys sorted, so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
