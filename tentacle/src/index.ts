/**
 * The tentacle as a library, for the swarm benchmark and tests: the real connection code,
 * usable many times in one process. Importing this module does nothing by itself.
 */
export { TentacleConnection } from './agent/tentacle-connection.js';
export type { HubChannel, TentacleJobHandler } from './agent/job-handler.js';
export { Deployer } from './deploy/deployer.js';
export type { DeployerOptions } from './deploy/deployer.js';
export { DEPLOY_DEFAULTS } from './deploy/deploy-defaults.js';
export { AGENT_DEFAULTS } from './agent/connection-options.js';
export type { ConnectionState, ConnectionStateChange, TentacleConnectionOptions } from './agent/connection-options.js';
export { signConnectToken } from './agent/connect-token.js';
export type { TentacleIdentity } from './agent/connect-token.js';
export { readOsInfo, freeDiskBytes } from './agent/system-info.js';
export { closeCodeName } from './agent/close-codes.js';
export { createPinnedTls, HubFingerprintMismatchError, FINGERPRINT_MISMATCH_CODE } from './net/pinned-tls.js';
export type { PinnedHubTls, PinnedTlsOptions } from './net/pinned-tls.js';
export { fetchHubCertificate } from './net/hub-certificate.js';
export { postRegistration } from './register/register-request.js';
export { fingerprintOfPem, normalizeFingerprint } from './net/fingerprint.js';
export { parseHubUrl } from './net/hub-url.js';
export type { HubEndpoint } from './net/hub-url.js';
export { describeNetworkFailure, CREDENTIALS_REFUSED } from './net/network-failure.js';
export type { NetworkFailure, FailureKind } from './net/network-failure.js';
export { loadRegisteredHome } from './home/registered-home.js';
export type { RegisteredHome } from './home/registered-home.js';
export { HOME_FILES, homePaths } from './home/home-files.js';
export { loadOrCreateKeyPair, publicPemOf } from './home/key-pair.js';
export type { TentacleConfig } from './home/tentacle-config.js';
export { createJsonLogger, createSilentLogger } from './log/logger.js';
export type { Logger, LogLevel, LogFields } from './log/logger.js';
