import type { IncomingMessage, ServerResponse } from 'node:http';

import { describeValue, isJsonObject, type JsonObject } from './json-input.js';
import { MatrixError } from './matrix-error.js';

/** The largest request body accepted; key uploads and to-device batches are the big ones. */
export const MAX_BODY_BYTES = 1 << 20;

/** Headers every response carries, so browser clients on any origin can use the server. */
const CORS_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization, Date',
};

/** Reads a request body whole; over `MAX_BODY_BYTES` is M_TOO_LARGE. */
export async function readBody(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function tooLarge(): MatrixError {
  return new MatrixError(413, 'M_TOO_LARGE', `Request body over ${MAX_BODY_BYTES} bytes`);
}

/**
 * Parses a body as a JSON object. An empty body counts as `{}`, as several endpoints take
 * no body; text that is not JSON is M_NOT_JSON, JSON that is not an object M_BAD_JSON.
 */
export function parseJsonBody(raw: Buffer): JsonObject {
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MatrixError(400, 'M_NOT_JSON', `Content not JSON: ${reason}`);
  }
  if (!isJsonObject(value)) {
    throw new MatrixError(
      400,
      'M_BAD_JSON',
      `Content must be a JSON object, got ${describeValue(value)}`,
    );
  }
  return value;
}

/** The access token of a request: the `Authorization: Bearer` header, else the query. */
export function accessTokenOf(
  request: IncomingMessage,
  query: URLSearchParams,
): string | undefined {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match !== null) return match[1];
  }
  return query.get('access_token') ?? undefined;
}

/** Writes a JSON response with the CORS headers; a response already ended is left alone. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.writableEnded || response.destroyed) return;
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...CORS_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, no-store, must-revalidate',
  });
  response.end(text);
}

/** Answers a CORS preflight. */
export function sendPreflight(response: ServerResponse): void {
  response.writeHead(204, CORS_HEADERS);
  response.end();
}
