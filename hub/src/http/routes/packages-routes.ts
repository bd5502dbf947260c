import { Router, type Request } from 'express';
import busboy from 'busboy';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { CuttleError, OverwriteModeSchema, type OverwriteMode } from '@cuttle/shared';
import type { PackageService } from '../../packages/package-service.js';
import { principalName, requireScope } from '../auth.js';
import { lingerIfBodyUnread } from '../early-answer.js';
import { parseWith } from '../errors.js';

const ListQuerySchema = z.object({ id: z.string().optional() });

function overwriteModeOf(req: Request): OverwriteMode {
  const raw = req.query.overwriteMode ?? 'FailIfExists';
  const parsed = OverwriteModeSchema.safeParse(raw);
  if (!parsed.success) {
    throw new CuttleError('invalid-overwrite-mode', `overwriteMode "${String(raw)}" is not one of FailIfExists, OverwriteExisting, IgnoreIfExists.`, {
      overwriteMode: raw,
    });
  }
  return parsed.data;
}

function contentLengthOf(req: Request): number | undefined {
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  return Number(header);
}

interface MultipartFile {
  file: Readable;
  fileName: string;
}

/** Resolves with the stream of the `file` field; other fields are skipped. */
function takeMultipartFile(req: Request, maxSize: number): Promise<MultipartFile> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({ headers: req.headers, limits: { files: 1, fileSize: maxSize + 1, fields: 20, fieldSize: 64 * 1024, parts: 40 } });
    } catch (error) {
      reject(new CuttleError('invalid-multipart', `The multipart body cannot be read: ${(error as Error).message}.`));
      return;
    }
    let taken: Readable | null = null;
    const fail = (error: CuttleError) => {
      if (taken) taken.destroy(error);
      else reject(error);
    };
    parser.on('file', (field, file, info) => {
      if (field !== 'file' || taken) {
        file.resume();
        return;
      }
      taken = file;
      // A permanent listener: the stream may fail (client gone, malformed body) at moments when
      // nobody else listens, before receive() takes it or after it let go. receive() handles the
      // failures that matter; this one only keeps a late one from crashing the process.
      file.on('error', () => undefined);
      file.on('limit', () => file.destroy(new CuttleError('package-too-large', `The package is larger than the ${maxSize} bytes this hub accepts.`, { maxSize })));
      resolve({ file, fileName: info.filename ?? '' });
    });
    parser.on('error', (error: Error) => fail(new CuttleError('invalid-multipart', `The multipart body is malformed: ${error.message}.`)));
    parser.on('close', () => {
      if (!taken) reject(new CuttleError('invalid-multipart', 'The multipart body has no file in a field named "file".'));
    });
    req.on('close', () => {
      if (!req.complete) fail(new CuttleError('upload-incomplete', 'The client went away before the upload was complete.'));
    });
    pipeline(req, parser).catch(() => {
      /* reported through the parser's and the request's events */
    });
  });
}

export function packagesRoutes(packages: PackageService, options: { maxPackageSize: number }): Router {
  const router = Router();

  router.post('/packages', requireScope('push'), async (req, res) => {
    const overwriteMode = overwriteModeOf(req);
    const uploadedBy = principalName(req);
    let source: Readable;
    let fileName: string;
    let expectedSize: number | undefined;
    if (req.is('multipart/form-data')) {
      ({ file: source, fileName } = await takeMultipartFile(req, options.maxPackageSize));
    } else if (req.is(['application/zip', 'application/octet-stream', 'application/x-zip-compressed']) || !req.headers['content-type']) {
      const name = req.query.filename;
      if (typeof name !== 'string' || name === '') {
        throw new CuttleError('missing-file-name', 'Say the package file name: ?filename=<PackageId>.<SemVer>.zip (or upload multipart with a "file" field).');
      }
      fileName = name;
      source = req;
      expectedSize = contentLengthOf(req);
    } else {
      throw new CuttleError('unsupported-media-type', `Upload the zip as application/zip, application/octet-stream or multipart/form-data, not ${req.headers['content-type']}.`);
    }
    const result = await packages.ingest(source, { fileName, overwriteMode, uploadedBy, expectedSize });
    // IgnoreIfExists answers without reading the body
    lingerIfBodyUnread(req, res);
    res.status(result.created ? 201 : 200).json(result.package);
  });

  router.get('/packages', requireScope('admin'), (req, res) => {
    const query = parseWith(ListQuerySchema, req.query, 'query');
    res.json({ items: packages.list(query.id) });
  });

  router.get('/packages/:id/:version', requireScope('admin'), (req, res) => {
    res.json(packages.get(String(req.params.id), String(req.params.version)));
  });

  router.get('/packages/:id/:version/content', requireScope('admin'), async (req, res) => {
    const info = packages.get(String(req.params.id), String(req.params.version));
    // Open first: a package deleted meanwhile is a clean 404, not a 200 cut short.
    const content = await packages.openContent(info);
    res.setHeader('Content-Type', 'application/zip');
    res.setHeader('Content-Length', String(info.size));
    res.setHeader('Content-Disposition', `attachment; filename="${info.id}.${info.version}.zip"`);
    res.setHeader('ETag', `"${info.sha256}"`);
    res.setHeader('X-Cuttle-Sha256', info.sha256);
    if (req.fresh) {
      content.destroy();
      res.status(304).end();
      return;
    }
    await pipeline(content, res).catch((error: unknown) => {
      res.destroy(error as Error);
    });
  });

  router.delete('/packages/:id/:version', requireScope('admin'), (req, res) => {
    packages.delete(String(req.params.id), String(req.params.version));
    res.status(204).end();
  });

  return router;
}
