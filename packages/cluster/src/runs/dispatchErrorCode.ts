import type { DispatchErrorCode } from '@toolrun/dispatcher';
import { DISPATCH_ERROR_CODES } from '@toolrun/dispatcher';

/** `code` as a dispatcher error code (one that crossed a process as text), or `otherwise`. */
export function dispatchErrorCode(code: string, otherwise: DispatchErrorCode): DispatchErrorCode {
  return Object.hasOwn(DISPATCH_ERROR_CODES, code) ? (code as DispatchErrorCode) : otherwise;
}
