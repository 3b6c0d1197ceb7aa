// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');
const { grafanaESModules, nodeModulesToTransform } = require('./.config/jest/utils');

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // Grafana's components pull in ES modules (.mjs, @marcbachmann/cel-js) that Jest must transform too.
  transform: {
    ...base.transform,
    '^.+\\.mjs$': base.transform['^.+\\.(t|j)sx?$'],
  },
  transformIgnorePatterns: [nodeModulesToTransform([...grafanaESModules, '@marcbachmann/cel-js'])],
  // The editors' tests type and click through Grafana's components, which takes seconds on a busy 2-core
  // machine: a test fails on what it finds, not on how fast the machine is (Jest's default is 5 s).
  testTimeout: 120000,
};
