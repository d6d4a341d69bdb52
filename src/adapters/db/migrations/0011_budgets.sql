CREATE TABLE "budget_alerts" (
	"team" text NOT NULL,
	"month" date NOT NULL,
	"kind" text NOT NULL,
	"threshold" integer NOT NULL,
	"claimed_at" timestamp with time zone NOT NULL,
	"conversation_id" text,
	"message_id" text,
	CONSTRAINT "budget_alerts_team_month_kind_threshold_pk" PRIMARY KEY("team","month","kind","threshold"),
	CONSTRAINT "budget_alerts_kind_check" CHECK ("budget_alerts"."kind" in ('actual', 'forecast'))
);
--> statement-breakpoint
CREATE TABLE "budgets" (
	"team" text PRIMARY KEY NOT NULL,
	"amount" numeric(24, 10) NOT NULL,
	"currency" text NOT NULL,
	"set_by" text NOT NULL,
	"set_at" timestamp with time zone NOT NULL,
	CONSTRAINT "budgets_amount_check" CHECK ("budgets"."amount" > 0)
);
