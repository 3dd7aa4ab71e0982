import type { Role } from '../context.ts';
import type { ToolApprovers } from '../defineTool.ts';
import type { JsonValue } from '../events.ts';

/** Where an approval row is: `pending` until one settlement wins. */
export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired', 'cancelled'] as const;
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** A pending approval as the dispatcher asks the store to keep it. Times are epoch milliseconds. */
export interface NewApproval {
  readonly id: string;
  readonly runId: string;
  readonly userId: string;
  readonly callId: string;
  readonly tool: string;
  /** The call's input, redacted as in its events (the store keeps a hash of it). */
  readonly input: JsonValue;
  /**
   * The input the agent passed, unredacted: what the tool runs with once approved, needed to resume
   * the call after a restart. The store should drop it once the approval is settled.
   */
  readonly callInput: JsonValue;
  /** The run owner's roles, to rebuild the run's context on resume. */
  readonly roles: readonly Role[];
  readonly approvers: ToolApprovers;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** How an approval ends. */
export interface ApprovalSettlement {
  readonly state: Exclude<ApprovalStatus, 'pending'>;
  readonly decidedBy?: string;
  readonly reason?: string;
  readonly at: number;
}

/**
 * The port through which approvals reach durable storage (the server wires `@toolrun/db`).
 * `settle` is a compare-and-set: it changes a `pending` approval and reports `true`, or changes
 * nothing and reports `false` (already settled, or unknown). The first settlement wins: a decision
 * racing the deadline, a second decision, a cancel.
 */
export interface ApprovalStore {
  create(approval: NewApproval): void | Promise<void>;
  settle(id: string, settlement: ApprovalSettlement): boolean | Promise<boolean>;
}
