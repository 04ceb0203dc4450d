/** This package's version, sent as `User-Agent: clawback/<version>` (test/packaging.test.ts keeps it equal to package.json's). */
export const VERSION = '0.1.0';
