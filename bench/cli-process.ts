/**
 * The Grantflow CLI run from source (through tsx), so that the bench measures the worker and the API server
 * exactly as `grantflow worker` and `grantflow server` run them: `node -r tsx/cjs bench/cli-process.ts worker`.
 */
import { main } from '../cli/main';

void main(process.argv);
