/** One document of the search corpus. */
export interface CorpusDocument {
  readonly id: string;
  readonly title: string;
  readonly text: string;
}

/**
 * A small corpus about Toolrun's own concepts, shipped with the package so that the `search` tool
 * and the `research` agent return meaningful results with no network. Written from the project's
 * architecture notes; each document is one topic.
 */
export const TOOLRUN_DOCS: readonly CorpusDocument[] = Object.freeze([
  {
    id: 'overview',
    title: 'What Toolrun is',
    text:
      "Toolrun is the single source of truth for running an AI agent's tools on behalf of one user request. " +
      'It replaces competing tool dispatchers and dispatcher factories with one request-scoped dispatcher, ' +
      'created by one factory. Products that grew several dispatchers suffered race conditions in event ' +
      'delivery and cross-user data leaks; Toolrun removes both by giving every request its own scope. ' +
      'The five lifecycle events of a run reach the user who owns the run and nobody else.',
  },
  {
    id: 'events',
    title: 'The five lifecycle events',
    text:
      'Every run emits five kinds of events. agent_started carries the agent name and its input. ' +
      'agent_thinking carries a text and a step number: what the agent is doing and why. ' +
      'tool_executing announces a tool call with its callId, tool name and input. ' +
      'tool_completed reports how the call ended: success, error, timeout, cancelled or denied, with the ' +
      'output or an error code and message, and the duration in milliseconds. ' +
      'agent_completed ends the run with status completed, failed, cancelled or interrupted, the result or ' +
      'the error, the duration and the number of tool calls.',
  },
  {
    id: 'event-ordering',
    title: 'Event envelope and ordering rules',
    text:
      'Every event shares one envelope: an id of the form runId:seq, a seq that counts 1, 2, 3 per run with ' +
      'no gaps, the runId, userId and threadId it belongs to, and an ISO-8601 timestamp. ' +
      'The first event of a run is always agent_started and exactly one agent_completed is the last; nothing ' +
      'follows it. Every tool_completed follows the tool_executing with the same callId, and every tool call ' +
      'completes before the run does. Tool calls may run in parallel, yet seq still orders all events of a ' +
      'run totally. The scope enforces these rules as a small state machine: an event that would break them ' +
      'is refused, counted as a contract violation, and the run fails closed.',
  },
  {
    id: 'isolation',
    title: 'Isolation between users',
    text:
      "Isolation means that one user can never see another user's events, tool state or data, whatever runs " +
      'at the same time. Four isolation invariants hold for every run. An event is delivered only to connections authenticated as its userId. The one exception is an ' +
      "admin's explicit all-users view, and each such delivery is recorded as admin-visible. " +
      'Each request gets its own scope: a frozen user execution context, its own emitter and its own tool ' +
      'state. Nothing mutable is shared between scopes, and the tool registry is immutable. ' +
      'A scope is disposed when its run ends, so the count of live scopes returns to zero when no run is active. ' +
      'The factory is the only way to create a dispatcher; the dispatcher class cannot be constructed from outside.',
  },
  {
    id: 'context',
    title: 'The user execution context',
    text:
      'A UserExecutionContext names who a request runs for: userId, threadId, runId, requestId and roles. ' +
      'It is validated and deeply frozen when it is created, so nothing in it can change later. ' +
      'A context with a missing, empty or placeholder id such as default, anonymous, test, null or undefined ' +
      'is refused at creation with a clear error, because a made-up identity is how cross-user leaks begin. ' +
      'Sub-agents get a child context: same user, thread and run, a new request id, one level deeper.',
  },
  {
    id: 'limits',
    title: 'Limits and guards',
    text:
      'The dispatcher guards every call, and each guard has a typed error code. An unknown tool is refused, ' +
      "invalid input is refused with the schema's issues, and an admin tool called without the admin role is " +
      'denied. Each tool has a timeout. Each user has a limit on concurrent runs and a rate limit on how ' +
      'often runs may start. Oversized input is refused before it reaches a tool. A per-tool circuit ' +
      'breaker stops calling a tool that keeps failing.',
  },
  {
    id: 'circuit-breaker',
    title: 'The circuit breaker',
    text:
      'When a tool fails again and again, its circuit breaker opens: for a cool-down period the dispatcher ' +
      'refuses calls to that tool at once, and tool_completed reports the refusal with code CIRCUIT_OPEN, ' +
      'without running the tool. After the cool-down one trial call is let through; if it succeeds the ' +
      'breaker closes again. This protects a struggling service from a storm of retries. The flaky tool and ' +
      'the flaky demo agent show the breaker opening.',
  },
  {
    id: 'cancel',
    title: 'Cancelling a run',
    text:
      'A run belongs to its user, not to a connection: closing the browser does not stop it. Stopping a run ' +
      "is an explicit runs.cancel. Cancelling aborts the run's AbortSignal; every tool receives that signal " +
      'and long-running tools must honour it promptly. Calls in flight complete with status cancelled, and ' +
      'the run still ends with its events: agent_completed with status cancelled. The slow demo agent ' +
      'exists to try this.',
  },
  {
    id: 'resume',
    title: 'Resuming a stream',
    text:
      'A client that loses its connection resumes from the id of the last event it saw, its lastEventId. ' +
      'The server subscribes to live events first, then backfills from the database every event after ' +
      'lastEventId, drops duplicates by seq, and sends events as tracked messages whose id is the id of the ' +
      'last event in the message. A client that resumes from that id loses nothing and sees nothing twice, ' +
      'even after a server restart.',
  },
  {
    id: 'persistence',
    title: 'Persistence and crash recovery',
    text:
      'Runs, run events, tool calls and isolation audits are stored in SQLite through drizzle-orm and ' +
      'better-sqlite3, in WAL mode. Events are written before, or atomically with, their delivery. ' +
      'Migrations are generated with drizzle-kit, committed and applied at start-up. At start-up, runs ' +
      'left running by a crash are closed with agent_completed status interrupted. Old history can be ' +
      'purged by an admin.',
  },
  {
    id: 'audits',
    title: 'Audits',
    text:
      'An isolation audit checks the invariants of the isolation document from what actually happened: deliveries recorded ' +
      'per event and recipient, live scopes, and context identities. An active probe starts N synthetic users ' +
      'running concurrent agents and asserts that no event crosses users, that no scope leaks and that no ' +
      'context is shared. Each audit report is stored and shown in the console, with any cross-user ' +
      'deliveries listed one by one.',
  },
  {
    id: 'tools',
    title: 'Defining tools',
    text:
      'A tool is defined with defineTool: a name, a description, a zod input schema, an access level of user ' +
      'or admin, an optional timeout and a run function. run receives the parsed input and a context with ' +
      "the scope's frozen user execution context, an AbortSignal and the call id, and nothing global. " +
      'The registry lists each tool with its JSON Schema. A tool that throws produces tool_completed with ' +
      'status error; a failing tool is an event, never an exception thrown out of a subscription.',
  },
  {
    id: 'agents',
    title: 'Defining agents',
    text:
      'An agent is defined with defineAgent: a name, a description, a zod input schema and a run function. ' +
      'run receives its input and an agent context: ctx.think(text) emits agent_thinking, and ' +
      "ctx.callTool(name, input) dispatches a tool through the run's scope and returns a ToolResult with a " +
      'status; it never throws. The runner emits agent_started and agent_completed around it. Deterministic ' +
      'demo agents need no model; an OpenAI-compatible agent drives any Chat Completions server.',
  },
  {
    id: 'redaction',
    title: 'Redaction of sensitive data',
    text:
      'Event payloads are redacted before they leave the scope. Any key whose name contains password, ' +
      'secret, token, api_key, apikey, auth or credential becomes [REDACTED] at any depth, and so do fields ' +
      "a tool's schema marks sensitive. Long strings and arrays are cut to a configured size with a marker. " +
      'The stored history holds the same redacted form, so secrets never reach the database.',
  },
  {
    id: 'admin',
    title: 'Admin tools and views',
    text:
      'Admins hold the admin role. Only they may run admin tools: list active runs, cancel any run and purge ' +
      "old history. Admins may open the all-users event feed, list any user's runs, read any run and run " +
      "isolation audits. Every delivery to an admin's all-users view is recorded as admin-visible, so an " +
      'audit can tell it apart from a leak.',
  },
  {
    id: 'metrics',
    title: 'Metrics',
    text:
      'The dispatcher counts through a metrics port: executions by tool and status, a duration histogram, ' +
      'tool latency percentiles, live scopes, events by type, runs by status, limit hits, contract ' +
      'violations and isolation violations. The server exposes them at /metrics in Prometheus text format ' +
      'and as a snapshot that the console charts.',
  },
  {
    id: 'compat',
    title: 'Compatibility with the old dispatchers',
    text:
      'The entry points of the dispatchers Toolrun replaces, such as ToolDispatcher.createRequestScoped and ' +
      'UnifiedToolDispatcherFactory.createForRequest, live in a compat subpath as thin facades. Each warns ' +
      'once with a DeprecationWarning and delegates to the one factory, so old call sites get the same ' +
      'events and the same isolation while they migrate.',
  },
  {
    id: 'transport',
    title: 'Streaming transport',
    text:
      'The server speaks tRPC over HTTP, with subscriptions over server-sent events and over WebSocket on the ' +
      'same port. Each subscription message carries one or more consecutive events, so a replay of history ' +
      'travels in large messages while resume by event id stays exact. The token goes in the Authorization ' +
      'header, and in connection params for SSE and WebSocket.',
  },
]);
