CREATE TABLE "ai_conversation_turns" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ai_conversation_turns_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"conversation_key" text NOT NULL,
	"role" text NOT NULL,
	"text" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	CONSTRAINT "ai_conversation_turns_role_check" CHECK ("ai_conversation_turns"."role" in ('user', 'assistant'))
);
--> statement-breakpoint
CREATE TABLE "ai_usage" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "ai_usage_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"at" timestamp with time zone NOT NULL,
	"model" text NOT NULL,
	"requester" text NOT NULL,
	"input_tokens" integer NOT NULL,
	"output_tokens" integer NOT NULL,
	"cache_read_tokens" integer NOT NULL,
	"cache_write_tokens" integer NOT NULL,
	"cost_nano_usd" bigint,
	"tool_calls" integer NOT NULL,
	"outcome" text NOT NULL,
	CONSTRAINT "ai_usage_outcome_check" CHECK ("ai_usage"."outcome" in ('answered', 'fallback'))
);
--> statement-breakpoint
CREATE INDEX "ai_conversation_turns_key_idx" ON "ai_conversation_turns" USING btree ("conversation_key","id");--> statement-breakpoint
CREATE INDEX "ai_conversation_turns_at_idx" ON "ai_conversation_turns" USING btree ("at");--> statement-breakpoint
CREATE INDEX "ai_usage_requester_at_idx" ON "ai_usage" USING btree ("requester","at");--> statement-breakpoint
CREATE INDEX "ai_usage_at_idx" ON "ai_usage" USING btree ("at");