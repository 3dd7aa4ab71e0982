CREATE TABLE `tool_switch_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`tool` text NOT NULL,
	`enabled` integer NOT NULL,
	`reason` text NOT NULL,
	`changed_by` text NOT NULL,
	`changed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `tool_switch_changes_tool_idx` ON `tool_switch_changes` (`tool`,`id`);