CREATE TABLE `approvals` (
	`id` text PRIMARY KEY NOT NULL,
	`run_id` text NOT NULL,
	`user_id` text NOT NULL,
	`call_id` text NOT NULL,
	`tool` text NOT NULL,
	`input` text NOT NULL,
	`input_hash` text NOT NULL,
	`call_input` text,
	`roles` text NOT NULL,
	`approvers` text NOT NULL,
	`state` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`decided_at` integer,
	`decided_by` text,
	`reason` text
);
--> statement-breakpoint
CREATE INDEX `approvals_user_created_idx` ON `approvals` (`user_id`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `approvals_created_idx` ON `approvals` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `approvals_run_idx` ON `approvals` (`run_id`);--> statement-breakpoint
CREATE INDEX `approvals_state_idx` ON `approvals` (`state`);