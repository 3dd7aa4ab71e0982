CREATE TABLE "feed_head" (
	"id" integer PRIMARY KEY NOT NULL,
	"pos" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "isolation_audits" (
	"id" text PRIMARY KEY NOT NULL,
	"ran_by" text NOT NULL,
	"params" text NOT NULL,
	"report" text NOT NULL,
	"violations" integer NOT NULL,
	"created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "run_events" (
	"pos" bigint PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"seq" integer NOT NULL,
	"user_id" text NOT NULL,
	"type" text NOT NULL,
	"at" bigint NOT NULL,
	"data" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "runs" (
	"id" text PRIMARY KEY NOT NULL,
	"user_id" text NOT NULL,
	"thread_id" text NOT NULL,
	"agent" text NOT NULL,
	"input" text NOT NULL,
	"status" text NOT NULL,
	"result" text,
	"error" text,
	"started_at" bigint NOT NULL,
	"finished_at" bigint,
	"duration_ms" double precision,
	"tool_calls" integer DEFAULT 0 NOT NULL,
	"last_seq" integer NOT NULL,
	"owner" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "scratchpad_entries" (
	"user_id" text NOT NULL,
	"key" text NOT NULL,
	"value" text NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "scratchpad_entries_user_id_key_pk" PRIMARY KEY("user_id","key")
);
--> statement-breakpoint
CREATE TABLE "tool_calls" (
	"run_id" text NOT NULL,
	"call_id" text NOT NULL,
	"tool" text NOT NULL,
	"input" text NOT NULL,
	"status" text NOT NULL,
	"output" text,
	"error" text,
	"started_at" bigint NOT NULL,
	"finished_at" bigint,
	"duration_ms" double precision,
	"start_seq" integer NOT NULL,
	"end_seq" integer,
	CONSTRAINT "tool_calls_run_id_call_id_pk" PRIMARY KEY("run_id","call_id")
);
--> statement-breakpoint
ALTER TABLE "run_events" ADD CONSTRAINT "run_events_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tool_calls" ADD CONSTRAINT "tool_calls_run_id_runs_id_fk" FOREIGN KEY ("run_id") REFERENCES "public"."runs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "isolation_audits_created_idx" ON "isolation_audits" USING btree ("created_at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "run_events_run_seq_idx" ON "run_events" USING btree ("run_id","seq");--> statement-breakpoint
CREATE INDEX "run_events_user_pos_idx" ON "run_events" USING btree ("user_id","pos");--> statement-breakpoint
CREATE INDEX "runs_started_idx" ON "runs" USING btree ("started_at","id");--> statement-breakpoint
CREATE INDEX "runs_user_started_idx" ON "runs" USING btree ("user_id","started_at","id");--> statement-breakpoint
CREATE INDEX "runs_user_status_started_idx" ON "runs" USING btree ("user_id","status","started_at","id");--> statement-breakpoint
CREATE INDEX "runs_status_started_idx" ON "runs" USING btree ("status","started_at","id");--> statement-breakpoint
CREATE INDEX "runs_finished_idx" ON "runs" USING btree ("finished_at");