import { toolrunVitest } from '@toolrun/vitest-config';

export default toolrunVitest();
