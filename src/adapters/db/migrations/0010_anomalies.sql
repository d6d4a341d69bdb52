CREATE TABLE "anomalies" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "anomalies_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"key" text NOT NULL,
	"scope" jsonb NOT NULL,
	"team" text,
	"first_day" date NOT NULL,
	"last_day" date NOT NULL,
	"active" boolean NOT NULL,
	"expected" numeric(24, 10) NOT NULL,
	"actual" numeric(24, 10) NOT NULL,
	"impact" numeric(24, 10) NOT NULL,
	"severity" text NOT NULL,
	"score" double precision NOT NULL,
	"currency" text NOT NULL,
	"drivers" jsonb NOT NULL,
	"source" text NOT NULL,
	"aws_anomaly_id" text,
	"status" text DEFAULT 'open' NOT NULL,
	"status_by" text,
	"status_at" timestamp with time zone,
	"snoozed_until" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"detected_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "anomalies_key_key" UNIQUE("key"),
	CONSTRAINT "anomalies_severity_check" CHECK ("anomalies"."severity" in ('low', 'medium', 'high')),
	CONSTRAINT "anomalies_source_check" CHECK ("anomalies"."source" in ('finops', 'aws', 'both')),
	CONSTRAINT "anomalies_status_check" CHECK ("anomalies"."status" in ('open', 'acknowledged', 'snoozed', 'dismissed'))
);
--> statement-breakpoint
CREATE TABLE "anomaly_alerts" (
	"anomaly_id" bigint NOT NULL,
	"platform" text NOT NULL,
	"conversation_id" text NOT NULL,
	"message_id" text,
	"posted_version" integer DEFAULT 0 NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"claimed_by" text,
	"lease_until" timestamp with time zone,
	"error" text,
	"permanent_failure" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "anomaly_alerts_anomaly_id_platform_conversation_id_pk" PRIMARY KEY("anomaly_id","platform","conversation_id"),
	CONSTRAINT "anomaly_alerts_platform_check" CHECK ("anomaly_alerts"."platform" in ('slack', 'teams'))
);
--> statement-breakpoint
ALTER TABLE "anomaly_alerts" ADD CONSTRAINT "anomaly_alerts_anomaly_id_anomalies_id_fk" FOREIGN KEY ("anomaly_id") REFERENCES "public"."anomalies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "anomalies_last_day_idx" ON "anomalies" USING btree ("last_day");--> statement-breakpoint
CREATE INDEX "anomalies_team_last_day_idx" ON "anomalies" USING btree ("team","last_day");--> statement-breakpoint
CREATE INDEX "anomaly_alerts_pending_idx" ON "anomaly_alerts" USING btree ("anomaly_id","posted_version") WHERE not "anomaly_alerts"."permanent_failure";