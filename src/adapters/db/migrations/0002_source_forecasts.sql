CREATE TABLE "source_forecasts" (
	"metric" text NOT NULL,
	"period_start" date NOT NULL,
	"period_end" date NOT NULL,
	"currency" text NOT NULL,
	"mean" numeric(24, 10) NOT NULL,
	"low" numeric(24, 10) NOT NULL,
	"high" numeric(24, 10) NOT NULL,
	"fetched_at" timestamp with time zone NOT NULL,
	CONSTRAINT "source_forecasts_metric_period_start_pk" PRIMARY KEY("metric","period_start")
);
