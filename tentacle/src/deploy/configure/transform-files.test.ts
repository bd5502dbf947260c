import { describe, expect, it } from 'vitest';
import { findTransformFiles, transformKind } from './transform-files.js';

describe('findTransformFiles', () => {
  const environments = ['Test', 'Staging', 'Production', 'Web.Prod', 'Prod'];

  it('finds name.<Environment>.ext beside name.ext for every environment, case-insensitively', () => {
    const files = [
      'appsettings.json',
      'appsettings.Production.json',
      'appsettings.staging.json',
      'config/app.yaml',
      'config/app.TEST.yaml',
      'web.config',
      'web.Production.config',
      'orphan.Production.json',
      'readme.md',
    ];
    expect(findTransformFiles(files, environments)).toEqual([
      { file: 'appsettings.Production.json', base: 'appsettings.json', environment: 'Production' },
      { file: 'appsettings.staging.json', base: 'appsettings.json', environment: 'Staging' },
      { file: 'config/app.TEST.yaml', base: 'config/app.yaml', environment: 'Test' },
      { file: 'web.Production.config', base: 'web.config', environment: 'Production' },
    ]);
  });

  it('does not look across folders, needs an extension and a stem, and prefers the longest environment', () => {
    const files = ['a.json', 'sub/a.Test.json', 'Test', 'x.Test', '.Test.json', 'app.Web.Prod.json', 'app.json', 'app.Web.json'];
    expect(findTransformFiles(files, environments)).toEqual([{ file: 'app.Web.Prod.json', base: 'app.json', environment: 'Web.Prod' }]);
  });

  it('merges JSON and YAML, replaces anything else', () => {
    expect(['a.json', 'a.JSON', 'a.yaml', 'a.yml', 'a.config', 'a.sh'].map(transformKind)).toEqual(['json', 'json', 'yaml', 'yaml', 'replace', 'replace']);
  });
});
