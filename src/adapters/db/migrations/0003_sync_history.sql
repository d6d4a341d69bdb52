ALTER TABLE "sync_state" ADD COLUMN "synced_from" date;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "failures" integer DEFAULT 0 NOT NULL;