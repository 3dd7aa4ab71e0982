/**
 * PostgreSQL's wall clock in epoch milliseconds, as SQL. Leases are measured on the database's clock,
 * never a process's: the processes of a cluster run on machines whose clocks disagree.
 * `clock_timestamp()`, not `now()`: a lease check inside a long transaction must see the present.
 */
export const PG_NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
