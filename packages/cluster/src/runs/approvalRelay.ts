import { randomUUID } from 'node:crypto';
import type { ToolrunServices } from '@toolrun/api';
import type { ApprovalDecision } from '@toolrun/dispatcher';
import { DispatchError, isDispatchError } from '@toolrun/dispatcher';
import type { Redis } from 'ioredis';
import type { ClusterLogger } from '../ClusterLogger.ts';
import type { ClusterKeys } from '../redis/keys.ts';
import { dispatchErrorCode } from './dispatchErrorCode.ts';

/** A decision on its way to the worker whose call waits for it. */
interface ApprovalRequest {
  readonly id: string;
  readonly decision: ApprovalDecision;
}

/** What that worker answers: done, or the dispatcher's refusal (`APPROVAL_FORBIDDEN`, `APPROVAL_DECIDED`, …). */
type ApprovalReply =
  | { readonly id: string; readonly ok: true }
  | { readonly id: string; readonly ok: false; readonly code: string; readonly message: string };

/** How long an API process waits for the worker holding the call before it answers `APPROVAL_NOT_FOUND`. */
const REPLY_TIMEOUT_MS = 5_000;

/**
 * The worker side: decides, in this process's factory, the approvals other processes relay (pub/sub
 * on `approvals`), and answers on `approval-replies`. A worker where no call waits for the approval
 * stays silent: the one that holds it answers.
 */
export async function serveApprovalDecisions(opts: {
  subscriber: Redis;
  command: Redis;
  keys: ClusterKeys;
  services: ToolrunServices;
  logger: ClusterLogger;
}): Promise<() => void> {
  const { subscriber, command, keys, services, logger } = opts;
  const reply = (message: ApprovalReply): void => {
    command.publish(keys.approvalReplies, JSON.stringify(message)).catch((error: unknown) => {
      logger.warn({ err: error }, 'could not answer a relayed approval decision');
    });
  };
  const onMessage = (channel: string, text: string): void => {
    if (channel !== keys.approvalRequests) return;
    let request: ApprovalRequest;
    try {
      request = JSON.parse(text) as ApprovalRequest;
    } catch (error) {
      logger.warn({ err: error }, 'ignored a malformed approval decision');
      return;
    }
    services.factory.approvals.decide(request.decision).then(
      () => reply({ id: request.id, ok: true }),
      (error: unknown) => {
        if (isDispatchError(error, 'APPROVAL_NOT_FOUND')) return;
        const code = isDispatchError(error) ? error.code : 'INTERNAL';
        reply({ id: request.id, ok: false, code, message: error instanceof Error ? error.message : String(error) });
      },
    );
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(keys.approvalRequests);
  return () => {
    subscriber.off('message', onMessage);
  };
}

/**
 * The API side: relays a decision to every worker (the one whose call waits for it decides it, with
 * the dispatcher's checks and its compare-and-set in the store) and waits for its answer. No answer
 * within 5 s: `APPROVAL_NOT_FOUND` (no live process holds the call).
 */
export async function createApprovalRelay(opts: {
  subscriber: Redis;
  command: Redis;
  keys: ClusterKeys;
  logger: ClusterLogger;
}): Promise<{ decide(decision: ApprovalDecision): Promise<void>; close(): void }> {
  const { subscriber, command, keys, logger } = opts;
  const waiting = new Map<string, (reply: ApprovalReply | undefined) => void>();
  const onMessage = (channel: string, text: string): void => {
    if (channel !== keys.approvalReplies) return;
    try {
      const parsed = JSON.parse(text) as ApprovalReply;
      waiting.get(parsed.id)?.(parsed);
    } catch (error) {
      logger.warn({ err: error }, 'ignored a malformed approval answer');
    }
  };
  subscriber.on('message', onMessage);
  await subscriber.subscribe(keys.approvalReplies);
  return {
    async decide(decision) {
      const id = randomUUID();
      const answered = new Promise<ApprovalReply | undefined>((resolve) => {
        const timer = setTimeout(() => resolve(undefined), REPLY_TIMEOUT_MS);
        waiting.set(id, (reply) => {
          clearTimeout(timer);
          resolve(reply);
        });
      });
      try {
        await command.publish(keys.approvalRequests, JSON.stringify({ id, decision } satisfies ApprovalRequest));
        const reply = await answered;
        if (reply === undefined) {
          throw new DispatchError('APPROVAL_NOT_FOUND', `no call is waiting for approval ${decision.approvalId}`);
        }
        if (!reply.ok) throw new DispatchError(dispatchErrorCode(reply.code, 'AGENT_FAILED'), reply.message);
      } finally {
        waiting.delete(id);
      }
    },
    close() {
      subscriber.off('message', onMessage);
      for (const settle of waiting.values()) settle(undefined);
    },
  };
}
