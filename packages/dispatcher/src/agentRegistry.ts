import type { Role } from './context.ts';
import type { AnyAgent } from './defineAgent.ts';
import type { JsonValue } from './events.ts';
import { refuseDuplicate, validateDefinition } from './validateDefinition.ts';

/** What clients see of an agent. */
export interface AgentInfo {
  readonly name: string;
  readonly description: string;
  readonly access: 'user' | 'admin';
  readonly inputSchema: JsonValue;
}

/** The immutable set of agents a factory can run. */
export interface AgentRegistry {
  list(): AgentInfo[];
  /** Agents that principals holding `roles` may start. */
  listFor(roles: readonly Role[]): AgentInfo[];
  get(name: string): AnyAgent | undefined;
}

/** Builds the immutable agent registry once (`INVALID_REGISTRY` for a malformed or duplicate agent). */
export function createAgentRegistry(agents: readonly AnyAgent[]): AgentRegistry {
  const byName = new Map<string, AnyAgent>();
  const infos: AgentInfo[] = [];
  for (const agent of agents) {
    const { inputSchema } = validateDefinition('agent', agent, { accessRequired: false });
    if (byName.has(agent.name)) refuseDuplicate('agent', agent.name);
    byName.set(agent.name, agent);
    infos.push(
      Object.freeze({
        name: agent.name,
        description: agent.description,
        access: agent.access ?? 'user',
        inputSchema,
      }),
    );
  }
  const all = Object.freeze(infos);
  const forUsers = Object.freeze(infos.filter((i) => i.access === 'user'));
  return Object.freeze({
    list: () => [...all],
    listFor: (roles: readonly Role[]) => (roles.includes('admin') ? [...all] : [...forUsers]),
    get: (name: string) => byName.get(name),
  });
}
