CREATE TABLE "approvals" (
	"id" text PRIMARY KEY NOT NULL,
	"run_id" text NOT NULL,
	"user_id" text NOT NULL,
	"call_id" text NOT NULL,
	"tool" text NOT NULL,
	"input" text NOT NULL,
	"input_hash" text NOT NULL,
	"call_input" text,
	"roles" text NOT NULL,
	"approvers" text NOT NULL,
	"state" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"decided_at" bigint,
	"decided_by" text,
	"reason" text
);
--> statement-breakpoint
CREATE TABLE "tool_switch_changes" (
	"id" serial PRIMARY KEY NOT NULL,
	"tool" text NOT NULL,
	"enabled" boolean NOT NULL,
	"reason" text NOT NULL,
	"changed_by" text NOT NULL,
	"changed_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "approvals_user_created_idx" ON "approvals" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "approvals_created_idx" ON "approvals" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "approvals_run_idx" ON "approvals" USING btree ("run_id");--> statement-breakpoint
CREATE INDEX "approvals_state_idx" ON "approvals" USING btree ("state");--> statement-breakpoint
CREATE INDEX "tool_switch_changes_tool_idx" ON "tool_switch_changes" USING btree ("tool","id");