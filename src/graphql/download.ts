import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import { clientInfo } from '../auth/clientInfo.js';
import { ErrorCode } from '../errors.js';
import { httpStatusOf, normalizeError } from './errors.js';
import type { Yoga } from './yoga.js';

const PATH = /^\/documents\/([^/]+)\/download$/;
const QUERY = 'query($id: ID!, $format: ExportFormat!, $version: Version) { document(id: $id) { title export(format: $format, version: $version) } }';

/**
 * `GET /documents/{id}/download?format=text|json&version=[["agent",seq],...]`: the text at any
 * version as a file. Runs `document.export` through the GraphQL pipeline, so the same auth, roles
 * and scopes apply. Returns false for other paths.
 */
export function createDownloadHandler({ yoga, log, trustProxy }: { yoga: Yoga; log: Logger; trustProxy: boolean }) {
  return function handleDownload(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    const m = PATH.exec(url.pathname);
    if (!m || req.method !== 'GET') return false;
    serve(req, res, decodeURIComponent(m[1]!), url.searchParams).catch((err) => {
      log.error({ err }, 'download failed');
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
    return true;
  };

  async function serve(req: IncomingMessage, res: ServerResponse, id: string, params: URLSearchParams) {
    const fail = (code: string, message: string) => {
      const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
      res.writeHead(httpStatusOf(code), { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    const format = (params.get('format') ?? 'text').toUpperCase();
    if (format !== 'TEXT' && format !== 'JSON') return fail(ErrorCode.BAD_USER_INPUT, 'format must be text or json');
    let version: unknown = null;
    if (params.has('version')) {
      try {
        version = JSON.parse(params.get('version')!);
      } catch {
        return fail(ErrorCode.BAD_USER_INPUT, 'version must be a Version as JSON, e.g. [["agent",3]]');
      }
    }
    const { parse, validate, contextFactory, execute, schema } = yoga.getEnveloped({ authorization: req.headers.authorization ?? null, client: clientInfo(req, trustProxy) });
    let result: ExecutionResult;
    try {
      const document = parse(QUERY);
      const invalid = validate(schema, document);
      if (invalid.length > 0) throw invalid[0];
      result = (await execute({ schema, document, variableValues: { id, format, version }, contextValue: await contextFactory() })) as ExecutionResult;
    } catch (err) {
      const e = normalizeError(err, log);
      return fail(String(e.extensions.code), e.message);
    }
    if (result.errors?.length) {
      const e = normalizeError(result.errors[0], log);
      return fail(String(e.extensions.code), e.message);
    }
    const doc = (result.data as { document: { title: string; export: string } | null }).document;
    if (!doc) return fail(ErrorCode.NOT_FOUND, 'document not found');
    const filename = `${doc.title.replace(/[^\w .-]+/g, '_').slice(0, 100) || 'document'}.${format === 'TEXT' ? 'txt' : 'json'}`;
    const body = Buffer.from(doc.export, 'utf8');
    res.writeHead(200, {
      'content-type': format === 'TEXT' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${filename}"`,
      'content-length': body.length,
      'x-content-type-options': 'nosniff',
    });
    res.end(body);
  }
}
