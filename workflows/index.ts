export { accessRequest } from './access-request';
