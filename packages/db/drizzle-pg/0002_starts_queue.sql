CREATE TABLE "idempotency_keys" (
	"user_id" text NOT NULL,
	"key" text NOT NULL,
	"fingerprint" text NOT NULL,
	"run_id" text NOT NULL,
	"thread_id" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "idempotency_keys_user_id_key_pk" PRIMARY KEY("user_id","key")
);
--> statement-breakpoint
CREATE TABLE "queued_runs" (
	"pos" bigserial PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"user_id" text NOT NULL,
	"thread_id" text NOT NULL,
	"roles" text NOT NULL,
	"agent" text NOT NULL,
	"input" text NOT NULL,
	"enqueued_at" bigint NOT NULL,
	"deadline_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "queued_runs_run_idx" ON "queued_runs" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "queued_runs_user_idx" ON "queued_runs" USING btree ("user_id","pos");