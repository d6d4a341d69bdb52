CREATE TABLE "digest_deliveries" (
	"subscription_id" integer NOT NULL,
	"period_key" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"claimed_by" text,
	"lease_until" timestamp with time zone,
	"message_id" text,
	"chart_id" text,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"posted_at" timestamp with time zone,
	CONSTRAINT "digest_deliveries_subscription_id_period_key_pk" PRIMARY KEY("subscription_id","period_key")
);
--> statement-breakpoint
CREATE TABLE "digest_subscriptions" (
	"id" serial PRIMARY KEY NOT NULL,
	"platform" text NOT NULL,
	"conversation_id" text NOT NULL,
	"cadence" text NOT NULL,
	"team" text,
	"time_zone" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"problem" text,
	"problem_at" timestamp with time zone,
	CONSTRAINT "digest_subscriptions_target_key" UNIQUE NULLS NOT DISTINCT("platform","conversation_id","cadence","team")
);
--> statement-breakpoint
ALTER TABLE "digest_deliveries" ADD CONSTRAINT "digest_deliveries_subscription_id_digest_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "public"."digest_subscriptions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "digest_deliveries_status_idx" ON "digest_deliveries" USING btree ("status","lease_until");