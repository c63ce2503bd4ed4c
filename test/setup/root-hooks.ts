/**
 * Mocha root hooks: stop the shared servers once the whole run is over.
 */
import { stopTestTemporal } from './stack';
import { stopTestPostgres } from './postgres';
import { stopTestMoto } from './moto';
import { stopTestMariaDb } from './mariadb';

export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopTestTemporal();
    await stopTestPostgres();
    await stopTestMoto();
    await stopTestMariaDb();
  },
};
