import type { ApprovalSettlement, ApprovalStatus, ApprovalStore, NewApproval } from './ApprovalStore.ts';

/** An approval as the memory store holds it. */
export interface MemoryApproval extends NewApproval {
  state: ApprovalStatus;
  settlement?: ApprovalSettlement;
}

/** An {@link ApprovalStore} in memory, with a look inside: for tests and embedded use without a database. */
export interface MemoryApprovalStore extends ApprovalStore {
  get(id: string): MemoryApproval | undefined;
  list(): MemoryApproval[];
}

/**
 * The approval store a factory uses when none is given: nothing survives the process, which is
 * fine for tests and demos; the server wires `@toolrun/db` instead.
 */
export function createMemoryApprovalStore(): MemoryApprovalStore {
  const rows = new Map<string, MemoryApproval>();
  return {
    create(approval) {
      rows.set(approval.id, { ...approval, state: 'pending' });
    },
    settle(id, settlement) {
      const row = rows.get(id);
      if (row === undefined || row.state !== 'pending') return false;
      row.state = settlement.state;
      row.settlement = settlement;
      return true;
    },
    get: (id) => rows.get(id),
    list: () => [...rows.values()],
  };
}
