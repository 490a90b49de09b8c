import type { CertIssuer } from '../provision/service.js';
import type { CertsService } from './service.js';
export const check = (c: CertsService): CertIssuer => c;
