CREATE TABLE "rightsizing_approvers" (
	"team" text PRIMARY KEY NOT NULL,
	"approvers" jsonb NOT NULL,
	"set_by" text NOT NULL,
	"set_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rightsizing_audit" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "rightsizing_audit_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"team" text NOT NULL,
	"recommendation_id" integer,
	"action" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"source" jsonb,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "rightsizing_recommendations" (
	"id" serial PRIMARY KEY NOT NULL,
	"key" text NOT NULL,
	"account_id" text NOT NULL,
	"region" text NOT NULL,
	"instance_id" text NOT NULL,
	"instance_name" text,
	"team" text NOT NULL,
	"action" text NOT NULL,
	"current_type" text NOT NULL,
	"target_type" text,
	"cpu_max_percent" double precision,
	"memory_max_percent" double precision,
	"current_monthly_cost" numeric(24, 10) NOT NULL,
	"monthly_savings" numeric(24, 10) NOT NULL,
	"currency" text NOT NULL,
	"lookback_days" integer NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"approvals" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"approvals_needed" integer NOT NULL,
	"decided_by" text,
	"decided_at" timestamp with time zone,
	"reason" text,
	"execution" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"execution_holder" text,
	"execution_claimed_at" timestamp with time zone,
	"applied_at" timestamp with time zone,
	"realised_monthly_savings" numeric(24, 10),
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"seen_at" timestamp with time zone NOT NULL,
	CONSTRAINT "rightsizing_recommendations_status_check" CHECK ("rightsizing_recommendations"."status" in ('pending', 'approved', 'rejected', 'expired', 'applied', 'failed')),
	CONSTRAINT "rightsizing_recommendations_action_check" CHECK ("rightsizing_recommendations"."action" in ('modify', 'terminate'))
);
--> statement-breakpoint
CREATE TABLE "rightsizing_syncs" (
	"id" serial PRIMARY KEY NOT NULL,
	"synced_at" timestamp with time zone NOT NULL,
	"added" integer NOT NULL,
	"updated" integer NOT NULL,
	"withdrawn" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "rightsizing_audit" ADD CONSTRAINT "rightsizing_audit_recommendation_id_rightsizing_recommendations_id_fk" FOREIGN KEY ("recommendation_id") REFERENCES "public"."rightsizing_recommendations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "rightsizing_audit_team_at_idx" ON "rightsizing_audit" USING btree ("team","at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "rightsizing_audit_at_idx" ON "rightsizing_audit" USING btree ("at" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "rightsizing_recommendations_key_idx" ON "rightsizing_recommendations" USING btree ("key") WHERE "rightsizing_recommendations"."status" <> 'expired';--> statement-breakpoint
CREATE INDEX "rightsizing_recommendations_team_status_idx" ON "rightsizing_recommendations" USING btree ("team","status");--> statement-breakpoint
CREATE INDEX "rightsizing_syncs_synced_at_idx" ON "rightsizing_syncs" USING btree ("synced_at");