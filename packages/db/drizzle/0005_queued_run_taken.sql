ALTER TABLE `queued_runs` ADD `taken_by` integer;--> statement-breakpoint
ALTER TABLE `queued_runs` ADD `taken_at` integer;