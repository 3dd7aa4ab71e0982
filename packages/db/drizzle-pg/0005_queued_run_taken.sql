ALTER TABLE "queued_runs" ADD COLUMN "taken_by" integer;--> statement-breakpoint
ALTER TABLE "queued_runs" ADD COLUMN "taken_at" bigint;