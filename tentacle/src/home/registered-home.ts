import { readFile, stat } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import { EXIT } from '@cuttle/shared';
import { TentacleError } from '../tentacle-error.js';
import { fingerprintOfPem, sameFingerprint } from '../net/fingerprint.js';
import { createPinnedTls, type PinnedHubTls } from '../net/pinned-tls.js';
import { homePaths } from './home-files.js';
import { loadPrivateKey } from './key-pair.js';
import { readTentacleConfig, type TentacleConfig } from './tentacle-config.js';

/** Everything `run` needs from a registered home, read once at start. */
export interface RegisteredHome {
  home: string;
  config: TentacleConfig;
  privateKey: KeyObject;
  tls: PinnedHubTls;
}

export async function loadRegisteredHome(home: string): Promise<RegisteredHome> {
  const info = await stat(home).catch(() => null);
  if (info === null) throw notRegistered(home, `the folder ${home} does not exist`);
  if (!info.isDirectory()) throw new TentacleError('invalid-home', `--home ${home} is not a folder`, EXIT.usage);
  const config = await readTentacleConfig(home);
  if (config === null) throw notRegistered(home, `${homePaths(home).config} does not exist`);
  const privateKey = await loadPrivateKey(home);
  const certFile = homePaths(home).hubCert;
  const certPem = await readFile(certFile, 'utf8').catch((error: unknown) => {
    throw new TentacleError('invalid-home', `cannot read the pinned hub certificate ${certFile}; register this tentacle again`, EXIT.usage, { cause: error });
  });
  let fingerprint: string;
  try {
    fingerprint = fingerprintOfPem(certPem);
  } catch (error) {
    throw new TentacleError('invalid-home', `${certFile} is not a readable certificate; register this tentacle again`, EXIT.usage, { cause: error });
  }
  if (!sameFingerprint(fingerprint, config.hubFingerprint)) {
    throw new TentacleError(
      'invalid-home',
      `${certFile} has fingerprint ${fingerprint} but tentacle.json pins ${config.hubFingerprint}; register this tentacle again`,
      EXIT.usage,
    );
  }
  return { home, config, privateKey, tls: createPinnedTls(certPem, config.hubFingerprint) };
}

function notRegistered(home: string, why: string): TentacleError {
  return new TentacleError(
    'not-registered',
    `this tentacle is not registered: ${why}; run "cuttle-tentacle register --home ${home} ..." first`,
    EXIT.usage,
  );
}
