-- The rightsizing audit log is append-only: every UPDATE or DELETE statement on it is refused,
-- whoever sends it. TRUNCATE is deliberately allowed, for maintenance (emptying a test or
-- demo database, or purging the log on purpose): it is a separate privilege a DBA grants, not
-- something a stray query does. CREATE OR REPLACE: a database migrated again after dropping
-- the table keeps the function.
CREATE OR REPLACE FUNCTION "rightsizing_audit_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'rightsizing_audit is append-only: % is not allowed', TG_OP;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "rightsizing_audit_append_only" BEFORE UPDATE OR DELETE ON "rightsizing_audit"
FOR EACH STATEMENT EXECUTE FUNCTION "rightsizing_audit_append_only"();
