/**
 * Stable error codes. They are part of the public API: a client may branch on them,
 * so a code is never renamed or reused for another meaning.
 */
export const ERROR_CODES = {
  // generic
  'invalid-request': 'The request failed validation; details name the fields.',
  'invalid-json': 'The request body is not valid JSON.',
  'body-too-large': 'The JSON request body is larger than the route allows.',
  'unsupported-media-type': 'The request body has a content type the route does not accept.',
  'not-found': 'No route or resource matches the request.',
  internal: 'An unexpected fault on the hub; the hub log has the details.',
  // auth
  unauthorized: 'The API key is missing or unknown.',
  forbidden: 'The API key lacks the scope this route needs.',
  // api keys
  'api-key-exists': 'An API key with that name already exists.',
  'api-key-not-found': 'No API key has that name.',
  'last-admin-key': 'Revoking this key would leave the hub without an admin key.',
  // packages
  'invalid-package-name': 'The file name is not of the form <PackageId>.<SemVer>.zip.',
  'invalid-package-id': 'The package id has characters other than letters, digits, ".", "-", "_" or an unsafe sequence.',
  'invalid-version': 'The version is not a valid SemVer 2 version.',
  'invalid-overwrite-mode': 'overwriteMode is not FailIfExists, OverwriteExisting or IgnoreIfExists.',
  'missing-file-name': 'The upload does not say the package file name.',
  'empty-package': 'The uploaded body is empty.',
  'package-too-large': 'The upload is larger than the hub accepts (--max-package-size).',
  'upload-incomplete': 'The body ended before the announced Content-Length, or the client went away.',
  'upload-timeout': 'No bytes of the upload arrived for too long.',
  'invalid-zip': 'The body is not a readable zip file (no valid central directory).',
  'unsafe-zip-entry': 'A zip entry would extract outside the package folder or is of a forbidden kind.',
  'zip-limits-exceeded': 'The zip has too many entries, too large a total size or too high a compression ratio.',
  'package-corrupt': 'The package bytes are damaged: its SHA-256 or an entry\'s CRC-32 does not match.',
  'extract-failed': 'Extracting a package failed on the file system (the target folder exists, or an I/O error such as a full disk).',
  'package-exists': 'That package version already exists (overwriteMode FailIfExists).',
  'package-not-found': 'No package has that id and version.',
  'package-in-use': 'A release still uses that package version.',
  'invalid-multipart': 'The multipart body is malformed or has no "file" field.',
  // environments
  'environment-exists': 'An environment with that name already exists.',
  'environment-not-found': 'No environment has that name.',
  'environment-in-use': 'Machines or releases still use the environment.',
  'unknown-environment': 'A named environment does not exist.',
  // registration and machines
  'invalid-registration-token': 'The registration token is not known to this hub.',
  'registration-token-used': 'The registration token has been used already; tokens work once.',
  'registration-token-expired': 'The registration token has expired.',
  'token-scope-mismatch': 'The registration token does not allow the environments or roles asked for.',
  'invalid-public-key': 'The public key is not an EC P-256 key in PEM form.',
  'machine-exists': 'A machine with that name is registered; re-registering needs --force and an admin token.',
  'force-needs-admin': 'Replacing a registered machine needs an admin API key as the token.',
  'machine-not-found': 'No machine has that name.',
  'machine-offline': 'The machine has no live connection to the hub.',
  'machine-disabled': 'The machine is disabled.',
  'health-check-timeout': 'The tentacle did not answer the health check in time.',
  // projects and releases
  'project-not-found': 'No project has that name.',
  'release-exists': 'The project has a release with that version already.',
  'release-not-found': 'The project has no release with that version.',
  'unknown-package': 'A package or package version the release names does not exist.',
  // deployments and tasks
  'deployment-not-found': 'No deployment has that id.',
  'task-not-found': 'No task has that id.',
  'task-finished': 'The task has finished already and cannot be cancelled.',
  'no-matching-machines': 'No enabled machine of the environment has a role that a step of the release runs on.',
  'machine-not-in-environment': 'A machine the deployment names is not in its environment.',
  'no-previous-release': 'There is no earlier successful release of the project in that environment to roll back to.',
  // variables
  'unknown-scope': 'A variable scope names an environment, role or machine that does not exist.',
  'ambiguous-variable': 'Two values of a variable match the same target with the same precedence.',
  'variable-cycle': 'Variable values refer to each other in a cycle (#{A} in B and #{B} in A).',
  'reserved-variable': 'The variable name is one of the built-in Cuttle.* variables.',
  'variable-set-not-found': 'No variable set has that name.',
  'variable-set-in-use': 'Projects still include the variable set.',
  'variables-changed': 'The variables changed since they were read (If-Match does not match their ETag); read them again and retry.',
  'variables-too-large': 'The variables would not fit in a deployment job; the limit is on their total size.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A failure with a stable code. Thrown by domain code anywhere; only the edges
 * (HTTP error middleware, CLI main) map it to a status or an exit code.
 */
export class CuttleError extends Error {
  override readonly name = 'CuttleError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

export function isCuttleError(value: unknown): value is CuttleError {
  return value instanceof CuttleError;
}
