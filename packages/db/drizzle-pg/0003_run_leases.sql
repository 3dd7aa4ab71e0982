ALTER TABLE "runs" ADD COLUMN "lease_expires_at" bigint;--> statement-breakpoint
CREATE INDEX "runs_running_owner_idx" ON "runs" USING btree ("owner","lease_expires_at") WHERE status = 'running';