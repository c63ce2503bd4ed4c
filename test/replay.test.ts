/**
 * Replays the recorded histories (one per path of accessRequest) against the current workflow code. A change
 * that would break grants already in flight fails here: guard it with `patched()`, then record new histories
 * with `npm run record-histories` and keep the old ones.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { getWorkflowBundle } from './setup/stack';

const DIR = path.join(__dirname, 'histories');
/** Every path of the workflow, each recorded again after every patch that changed the commands it makes. */
const PATHS = [
  'auto-approved-expired',
  'approved-extended-revoked-early',
  'two-of-three',
  'denied',
  'expired',
  'cancelled',
  'grant-failed',
  'workflow-cancelled-while-active',
  'revoke-overdue',
];
const REQUIRED = [
  ...PATHS.filter((p) => p !== 'revoke-overdue'),
  // after the revoke-overdue patch
  'auto-approved-expired-v2',
  'revoke-overdue',
  // after the off-path-effects patch
  ...PATHS.map((p) => `${p}.off-path-effects`),
];

describe('replay of recorded histories', function () {
  this.timeout(120_000);
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));

  it('has a history for every path of the workflow', () => {
    for (const name of REQUIRED)
      assert.ok(files.includes(`${name}.json`), `missing test/histories/${name}.json`);
  });

  it('replays every recorded history without nondeterminism', async () => {
    const histories = files.map((f) => ({
      workflowId: f.replace(/\.json$/, ''),
      history: historyFromJSON(JSON.parse(readFileSync(path.join(DIR, f), 'utf8'))),
    }));
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: await getWorkflowBundle() },
      histories,
    )) {
      replayed++;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    assert.equal(replayed, histories.length);
    assert.deepEqual(failures, []);
  });
});
