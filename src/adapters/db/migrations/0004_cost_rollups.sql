CREATE TABLE "cost_rollups" (
	"facet" text NOT NULL,
	"grouping" text NOT NULL,
	"usage_date" date NOT NULL,
	"key" text NOT NULL,
	"currency" text NOT NULL,
	"unblended_cost" numeric(24, 10) NOT NULL,
	"amortized_cost" numeric(24, 10) NOT NULL,
	"net_unblended_cost" numeric(24, 10) NOT NULL,
	CONSTRAINT "cost_rollups_facet_grouping_usage_date_key_pk" PRIMARY KEY("facet","grouping","usage_date","key")
);
--> statement-breakpoint
INSERT INTO "cost_rollups" ("facet", "grouping", "usage_date", "key", "currency", "unblended_cost", "amortized_cost", "net_unblended_cost")
SELECT "facet", 'value', "usage_date", "value", min("currency"), sum("unblended_cost"), sum("amortized_cost"), sum("net_unblended_cost")
FROM "cost_facts" GROUP BY "facet", "usage_date", "value";
--> statement-breakpoint
INSERT INTO "cost_rollups" ("facet", "grouping", "usage_date", "key", "currency", "unblended_cost", "amortized_cost", "net_unblended_cost")
SELECT "facet", 'team', "usage_date", "team", min("currency"), sum("unblended_cost"), sum("amortized_cost"), sum("net_unblended_cost")
FROM "cost_facts" GROUP BY "facet", "usage_date", "team";
