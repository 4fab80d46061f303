import type { RequestContext } from '../../context.js';
import { codePointLength } from '../../crdt/text.js';
import type { RemoteVersion } from '../../crdt/version.js';
import { AppError, ErrorCode } from '../../errors.js';
import { builder } from '../builder.js';
import { DocumentRef, type DocumentSource } from './document.js';

const ExportFormatRef = builder.enumType('ExportFormat', {
  values: {
    TEXT: { value: 'TEXT', description: 'The text itself.' },
    JSON: { value: 'JSON', description: 'A JSON object: id, title, version, length, content, exportedAt.' },
  } as const,
});

/** The document's text at `version` (default: now) in the format asked for. */
export async function exportDocument(ctx: RequestContext, d: DocumentSource, format: 'TEXT' | 'JSON', version: RemoteVersion | null): Promise<string> {
  const doc = d.live ?? (await ctx.services.documents.get(d.meta.id));
  if (!doc) throw new AppError(ErrorCode.NOT_FOUND, 'document not found');
  const at = version ?? doc.version();
  const content = version ? await doc.textAtVersion(version) : (await doc.read()).content;
  if (format === 'TEXT') return content;
  return JSON.stringify({ id: d.meta.id, title: d.meta.title, version: at, length: codePointLength(content), content, exportedAt: new Date().toISOString() });
}

builder.objectFields(DocumentRef, (t) => ({
  export: t.string({
    description: 'The text at `version` (default: now) as TEXT, or as JSON with its title and version. Also downloadable: GET /documents/{id}/download?format=text|json&version=<Version as JSON>.',
    args: {
      format: t.arg({ type: ExportFormatRef, required: true }),
      version: t.arg({ type: 'Version', required: false }),
    },
    resolve: (d, { format, version }, ctx) => exportDocument(ctx, d, format, version ?? null),
  }),
}));
