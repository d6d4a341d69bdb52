CREATE TABLE "inbound_deliveries" (
	"key" text PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "inbound_deliveries_received_at_idx" ON "inbound_deliveries" USING btree ("received_at");