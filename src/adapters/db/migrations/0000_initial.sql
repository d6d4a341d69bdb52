CREATE TABLE "api_requests" (
	"id" serial PRIMARY KEY NOT NULL,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL,
	"operation" text NOT NULL,
	"attempts" integer NOT NULL,
	"outcome" text NOT NULL,
	"detail" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "cost_facts" (
	"facet" text NOT NULL,
	"usage_date" date NOT NULL,
	"team" text NOT NULL,
	"value" text NOT NULL,
	"currency" text NOT NULL,
	"unblended_cost" numeric(24, 10) NOT NULL,
	"amortized_cost" numeric(24, 10) NOT NULL,
	"net_unblended_cost" numeric(24, 10) NOT NULL,
	"estimated" boolean DEFAULT false NOT NULL,
	CONSTRAINT "cost_facts_facet_usage_date_team_value_pk" PRIMARY KEY("facet","usage_date","team","value")
);
--> statement-breakpoint
CREATE TABLE "job_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"holder" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sync_state" (
	"facet" text PRIMARY KEY NOT NULL,
	"synced_until" date,
	"last_attempt_at" timestamp with time zone,
	"last_success_at" timestamp with time zone,
	"last_error" text
);
--> statement-breakpoint
CREATE INDEX "api_requests_requested_at_idx" ON "api_requests" USING btree ("requested_at");--> statement-breakpoint
CREATE INDEX "cost_facts_team_idx" ON "cost_facts" USING btree ("facet","team","usage_date");