import { createHash } from 'node:crypto';
import type {
  ApprovalSettlement,
  ApprovalStatus,
  ApprovalStore,
  JsonValue,
  NewApproval,
  ParkedRun,
  Role,
  ToolApprovers,
} from '@toolrun/dispatcher';
import { APPROVAL_STATUSES } from '@toolrun/dispatcher';
import { and, asc, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import { type DrizzleDb, iso, parseJson } from '../drizzleDb.ts';
import { DbError } from '../errors.ts';
import { checkLimit, decodeCursor, encodeCursor } from '../paging.ts';
import { approvals, runs } from '../schema.ts';

/** A stored approval, as the API returns it (never the unredacted call input). */
export interface ApprovalRecord {
  id: string;
  runId: string;
  userId: string;
  callId: string;
  tool: string;
  /** The call's input, redacted as in its events. */
  input: JsonValue;
  /** SHA-256 (hex) of the redacted input's JSON text. */
  inputHash: string;
  status: ApprovalStatus;
  approvers: ToolApprovers;
  createdAt: string;
  expiresAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  reason: string | null;
}

/** Options of {@link ApprovalsRepository.list}. */
export interface ListApprovalsOptions {
  /** One user's approvals; everyone's when absent (admins). */
  userId?: string;
  status?: ApprovalStatus;
  runId?: string;
  /** Default 50, at most 1,000. */
  limit?: number;
  cursor?: string;
}

/** A page of {@link ApprovalsRepository.list}. */
export interface ApprovalPage {
  items: ApprovalRecord[];
  nextCursor: string | null;
}

/**
 * Approval rows: the dispatcher's {@link ApprovalStore} plus the reads the API and restart need.
 * Promise-returning, as on PostgreSQL every one is a round trip.
 */
export interface ApprovalsRepository extends ApprovalStore {
  create(approval: NewApproval): Promise<void>;
  /** Compare-and-set on `state = 'pending'`: true when this settlement won (the first decision wins). */
  settle(id: string, settlement: ApprovalSettlement): Promise<boolean>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** Newest first; keyset cursor on `(createdAt, id)`. */
  list(opts: ListApprovalsOptions): Promise<ApprovalPage>;
  /** Runs still `running` with pending approvals, for the dispatcher to resume at start-up. */
  parkedRuns(): Promise<ParkedRun[]>;
}

/** The SQLite rows behind {@link ApprovalsRepository}, synchronous (`client.ts` wraps them). */
export interface SqliteApprovalRows {
  create(approval: NewApproval): void;
  settle(id: string, settlement: ApprovalSettlement): boolean;
  get(id: string): ApprovalRecord | undefined;
  list(opts: ListApprovalsOptions): ApprovalPage;
  parkedRuns(): ParkedRun[];
}

/** An `approvals` row (the same columns on both backends). */
export type ApprovalRow = typeof approvals.$inferSelect;
type Row = ApprovalRow;

/** Approval rows through drizzle, on the main connection (a decision is one UPDATE). */
export function createApprovalsRepository(db: DrizzleDb): SqliteApprovalRows {
  return {
    create(approval) {
      db.insert(approvals).values(newApprovalRow(approval)).run();
    },
    settle(id, settlement) {
      const changed = db
        .update(approvals)
        .set(settledColumns(settlement))
        .where(and(eq(approvals.id, id), eq(approvals.state, 'pending')))
        .run().changes;
      return changed === 1;
    },
    get(id) {
      const row = db.select().from(approvals).where(eq(approvals.id, id)).get();
      return row === undefined ? undefined : toApprovalRecord(row);
    },
    list(opts) {
      const limit = checkLimit(opts.limit ?? 50);
      const where: SQL[] = [];
      if (opts.userId !== undefined) where.push(eq(approvals.userId, opts.userId));
      if (opts.status !== undefined) where.push(eq(approvals.state, opts.status));
      if (opts.runId !== undefined) where.push(eq(approvals.runId, opts.runId));
      if (opts.cursor !== undefined) {
        const { time, id } = decodeCursor(opts.cursor);
        const before = or(lt(approvals.createdAt, time), and(eq(approvals.createdAt, time), lt(approvals.id, id)));
        if (before !== undefined) where.push(before);
      }
      const rows = db
        .select()
        .from(approvals)
        .where(and(...where))
        .orderBy(desc(approvals.createdAt), desc(approvals.id))
        .limit(limit + 1)
        .all();
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      return {
        items: page.map(toApprovalRecord),
        nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last.createdAt, last.id) : null,
      };
    },
    parkedRuns() {
      const rows = db
        .select({ approval: approvals, run: runs })
        .from(approvals)
        .innerJoin(runs, eq(runs.id, approvals.runId))
        .where(and(eq(approvals.state, 'pending'), eq(runs.status, 'running')))
        .orderBy(asc(runs.startedAt), asc(runs.id), asc(approvals.createdAt), asc(approvals.id))
        .all();
      return groupParkedRuns(rows);
    },
  };
}

/** The row of a new pending approval (both backends). */
export function newApprovalRow(approval: NewApproval): Row {
  const input = JSON.stringify(approval.input);
  const callInput = JSON.stringify(approval.callInput);
  if (input === undefined || callInput === undefined) {
    throw new DbError('INVALID_ARGUMENT', 'an approval input must be JSON');
  }
  return {
    id: approval.id,
    runId: approval.runId,
    userId: approval.userId,
    callId: approval.callId,
    tool: approval.tool,
    input,
    inputHash: createHash('sha256').update(input).digest('hex'),
    callInput,
    roles: JSON.stringify(approval.roles),
    approvers: approval.approvers,
    state: 'pending',
    createdAt: approval.createdAt,
    expiresAt: approval.expiresAt,
    decidedAt: null,
    decidedBy: null,
    reason: null,
  };
}

/** The columns a settlement sets (both backends' compare-and-set `UPDATE … WHERE state = 'pending'`). */
export function settledColumns(settlement: ApprovalSettlement) {
  return {
    state: settlement.state,
    decidedAt: settlement.at,
    decidedBy: settlement.decidedBy ?? null,
    reason: settlement.reason ?? null,
    // Only a pending call can still run: its unredacted input is no longer kept.
    callInput: null,
  };
}

/** The run columns {@link groupParkedRuns} reads. */
export interface ParkedRunRow {
  id: string;
  userId: string;
  threadId: string;
  agent: string;
  input: JsonValue;
  startedAt: number;
  lastSeq: number;
  toolCalls: number;
}

/** Pending approvals joined with their running runs (run start order) → one {@link ParkedRun} per run. */
export function groupParkedRuns(rows: readonly { approval: Row; run: ParkedRunRow }[]): ParkedRun[] {
  const parked = new Map<string, ParkedRun & { pending: ParkedRun['pending'][number][] }>();
  for (const { approval, run } of rows) {
    let entry = parked.get(run.id);
    if (entry === undefined) {
      entry = {
        runId: run.id,
        userId: run.userId,
        threadId: run.threadId,
        agent: run.agent,
        roles: parseRoles(approval.roles),
        input: run.input,
        startedAtMs: run.startedAt,
        lastSeq: run.lastSeq,
        toolCalls: run.toolCalls,
        pending: [],
      };
      parked.set(run.id, entry);
    }
    entry.pending.push({
      approvalId: approval.id,
      callId: approval.callId,
      tool: approval.tool,
      callInput: approval.callInput === null ? null : parseJson(approval.callInput),
      expiresAtMs: approval.expiresAt,
    });
  }
  return [...parked.values()];
}

function parseRoles(text: string): Role[] {
  const parsed: unknown = JSON.parse(text);
  const roles = Array.isArray(parsed) ? parsed.filter((r): r is Role => r === 'user' || r === 'admin') : [];
  return roles.length > 0 ? roles : ['user'];
}

/** A stored row as the API returns it (both backends). */
export function toApprovalRecord(row: Row): ApprovalRecord {
  return {
    id: row.id,
    runId: row.runId,
    userId: row.userId,
    callId: row.callId,
    tool: row.tool,
    input: parseJson(row.input),
    inputHash: row.inputHash,
    status: (APPROVAL_STATUSES as readonly string[]).includes(row.state) ? (row.state as ApprovalStatus) : 'pending',
    approvers: row.approvers === 'admin' || row.approvers === 'both' ? row.approvers : 'owner',
    createdAt: iso(row.createdAt),
    expiresAt: iso(row.expiresAt),
    decidedAt: row.decidedAt === null ? null : iso(row.decidedAt),
    decidedBy: row.decidedBy,
    reason: row.reason,
  };
}
