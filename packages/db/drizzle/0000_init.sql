CREATE TABLE `isolation_audits` (
	`id` text PRIMARY KEY NOT NULL,
	`ran_by` text NOT NULL,
	`params` text NOT NULL,
	`report` text NOT NULL,
	`violations` integer NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `isolation_audits_created_idx` ON `isolation_audits` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `run_events` (
	`pos` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` text NOT NULL,
	`seq` integer NOT NULL,
	`user_id` text NOT NULL,
	`type` text NOT NULL,
	`at` integer NOT NULL,
	`data` text NOT NULL,
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `run_events_run_seq_idx` ON `run_events` (`run_id`,`seq`);--> statement-breakpoint
CREATE INDEX `run_events_user_pos_idx` ON `run_events` (`user_id`,`pos`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` text PRIMARY KEY NOT NULL,
	`user_id` text NOT NULL,
	`thread_id` text NOT NULL,
	`agent` text NOT NULL,
	`input` text NOT NULL,
	`status` text NOT NULL,
	`result` text,
	`error` text,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`duration_ms` real,
	`tool_calls` integer DEFAULT 0 NOT NULL,
	`last_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `runs_started_idx` ON `runs` (`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_user_started_idx` ON `runs` (`user_id`,`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_user_status_started_idx` ON `runs` (`user_id`,`status`,`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_status_started_idx` ON `runs` (`status`,`started_at`,`id`);--> statement-breakpoint
CREATE INDEX `runs_finished_idx` ON `runs` (`finished_at`);--> statement-breakpoint
CREATE TABLE `scratchpad_entries` (
	`user_id` text NOT NULL,
	`key` text NOT NULL,
	`value` text NOT NULL,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`user_id`, `key`)
);
--> statement-breakpoint
CREATE TABLE `tool_calls` (
	`run_id` text NOT NULL,
	`call_id` text NOT NULL,
	`tool` text NOT NULL,
	`input` text NOT NULL,
	`status` text NOT NULL,
	`output` text,
	`error` text,
	`started_at` integer NOT NULL,
	`finished_at` integer,
	`duration_ms` real,
	`start_seq` integer NOT NULL,
	`end_seq` integer,
	PRIMARY KEY(`run_id`, `call_id`),
	FOREIGN KEY (`run_id`) REFERENCES `runs`(`id`) ON UPDATE no action ON DELETE cascade
);
