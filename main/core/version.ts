import packageJson from '../../package.json' with { type: 'json' };

export const PERCH_VERSION: string = packageJson.version;
