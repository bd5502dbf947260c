import type { Readable } from 'node:stream';
import {
  CuttleError,
  compareVersions,
  inspectZip,
  parsePackageFileName,
  assertValidPackageId,
  assertValidVersion,
  type OverwriteMode,
  type PackageInfo,
  type PackageName,
  type ZipLimits,
} from '@cuttle/shared';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { PackageRepository } from './package-repository.js';
import type { PackageStore, ReceivedFile } from './package-store.js';

export interface PackageServiceOptions {
  maxPackageSize: number;
  uploadIdleTimeoutMs: number;
  zipLimits: ZipLimits;
  keepPackageVersions: number | null;
}

/** Tells whether something (a release) still needs a package version; such a version is never deleted. */
export type PackageUsage = (id: string, version: string) => boolean;

export interface IngestRequest {
  fileName: string;
  overwriteMode: OverwriteMode;
  uploadedBy: string | null;
  /** Content-Length, when the sender announced one. */
  expectedSize?: number | undefined;
}

export interface IngestResult {
  package: PackageInfo;
  /** false when IgnoreIfExists kept an existing package */
  created: boolean;
}

export class PackageService {
  constructor(
    private readonly repo: PackageRepository,
    private readonly store: PackageStore,
    private readonly options: PackageServiceOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly isInUse: PackageUsage = () => false,
  ) {}

  /**
   * The checks that need no body: the name, the mode against what exists, the announced size.
   * Returns the existing package when IgnoreIfExists makes the upload unnecessary.
   */
  precheck(fileName: string, overwriteMode: OverwriteMode, expectedSize?: number): { name: PackageName; existing: PackageInfo | null } {
    const name = parsePackageFileName(fileName);
    if (expectedSize !== undefined && expectedSize > this.options.maxPackageSize) {
      throw new CuttleError('package-too-large', `The package (${expectedSize} bytes) is larger than the ${this.options.maxPackageSize} bytes this hub accepts.`, {
        size: expectedSize,
        maxSize: this.options.maxPackageSize,
      });
    }
    if (expectedSize === 0) throw new CuttleError('empty-package', 'The upload is empty: send the zip file as the body.');
    const existing = this.repo.find(name.id, name.version);
    if (existing && overwriteMode === 'FailIfExists') throw packageExists(existing);
    if (existing && overwriteMode === 'OverwriteExisting') this.assertNotInUse(existing, 'replaced');
    return { name, existing: overwriteMode === 'IgnoreIfExists' ? existing : null };
  }

  /** Streams a package in, checks it and stores it exactly once. Nothing remains of a refused one. */
  async ingest(source: Readable, request: IngestRequest): Promise<IngestResult> {
    const { name, existing } = this.precheck(request.fileName, request.overwriteMode, request.expectedSize);
    if (existing) {
      // the body is not needed; its owner closes the source
      return { package: existing, created: false };
    }
    const received = await this.store.receive(source, {
      maxSize: this.options.maxPackageSize,
      idleTimeoutMs: this.options.uploadIdleTimeoutMs,
      expectedSize: request.expectedSize,
    });
    let result: IngestResult;
    try {
      if (received.size === 0) throw new CuttleError('empty-package', 'The upload is empty: send the zip file as the body.');
      await inspectZip(received.tmpPath, this.options.zipLimits);
      result = this.commit(name, received, request);
    } catch (error) {
      this.store.discard(received.tmpPath);
      throw error;
    }
    if (result.created) {
      this.log.info({ packageId: result.package.id, version: result.package.version, size: result.package.size, sha256: result.package.sha256 }, 'package stored');
      this.applyRetention(result.package.id);
    }
    return result;
  }

  get(id: string, version: string): PackageInfo {
    assertValidPackageId(id);
    assertValidVersion(version);
    const found = this.repo.find(id, version);
    if (!found) throw new CuttleError('package-not-found', `There is no package ${id} ${version}.`, { id, version });
    return found;
  }

  /** Newest first by SemVer within each id; ids alphabetical. */
  list(id?: string): PackageInfo[] {
    if (id !== undefined) assertValidPackageId(id);
    return this.repo
      .list(id)
      .sort((a, b) => a.id.localeCompare(b.id, 'en', { sensitivity: 'base' }) || compareVersions(b.version, a.version));
  }

  /** Opens the bytes of a package; package-not-found if they vanished (deleted meanwhile). */
  openContent(info: PackageInfo): Promise<Readable> {
    return this.store.open(info.sha256);
  }

  delete(id: string, version: string): void {
    const info = this.get(id, version);
    this.assertNotInUse(info, 'deleted');
    this.repo.transaction(() => {
      this.repo.delete(info.id, info.version);
      this.removeBlobIfUnused(info.sha256);
    });
    this.log.info({ packageId: info.id, version: info.version }, 'package deleted');
  }

  /** Removes blobs that no package or release refers to (left by a crash between rename and commit). */
  collectGarbage(): number {
    let removed = 0;
    for (const sha of this.store.listBlobs()) {
      if (!this.repo.isShaReferenced(sha)) {
        this.store.remove(sha);
        removed++;
      }
    }
    return removed;
  }

  private commit(name: PackageName, received: ReceivedFile, request: IngestRequest): IngestResult {
    return this.repo.transaction(() => {
      const existing = this.repo.find(name.id, name.version);
      if (existing) {
        if (request.overwriteMode === 'FailIfExists') throw packageExists(existing);
        if (request.overwriteMode === 'IgnoreIfExists') {
          this.store.discard(received.tmpPath);
          return { package: existing, created: false };
        }
        // again here: a release may have taken this version while the body was arriving
        this.assertNotInUse(existing, 'replaced');
      }
      const info: PackageInfo = {
        id: existing?.id ?? name.id,
        version: existing?.version ?? name.version,
        sha256: received.sha256,
        size: received.size,
        uploadedAt: this.clock().toISOString(),
        uploadedBy: request.uploadedBy,
      };
      this.store.commit(received);
      this.repo.upsert(info);
      if (existing && existing.sha256 !== info.sha256) this.removeBlobIfUnused(existing.sha256);
      return { package: info, created: true };
    });
  }

  /** A version a release uses is immutable: its bytes are what the release deploys. */
  private assertNotInUse(info: PackageInfo, action: 'deleted' | 'replaced'): void {
    if (this.isInUse(info.id, info.version)) {
      throw new CuttleError('package-in-use', `${info.id} ${info.version} is used by a release and cannot be ${action}.`, { id: info.id, version: info.version });
    }
  }

  private removeBlobIfUnused(sha256: string): void {
    if (!this.repo.isShaReferenced(sha256)) this.store.remove(sha256);
  }

  /** Keeps the newest N versions of a package id (--keep-package-versions); versions in use always stay. */
  private applyRetention(id: string): void {
    const keep = this.options.keepPackageVersions;
    if (keep === null) return;
    const versions = this.list(id);
    for (const old of versions.slice(keep)) {
      if (this.isInUse(old.id, old.version)) continue;
      this.repo.transaction(() => {
        this.repo.delete(old.id, old.version);
        this.removeBlobIfUnused(old.sha256);
      });
      this.log.info({ packageId: old.id, version: old.version, keep }, 'package version removed by retention');
    }
  }
}

function packageExists(existing: PackageInfo): CuttleError {
  return new CuttleError(
    'package-exists',
    `${existing.id} ${existing.version} already exists; to replace it push with overwriteMode=OverwriteExisting (cuttle push --overwrite-mode OverwriteExisting), or use IgnoreIfExists to keep it.`,
    { id: existing.id, version: existing.version, sha256: existing.sha256 },
  );
}
