export { accessRequest } from './access-request';
export { reconcileDrift } from './reconcile';
