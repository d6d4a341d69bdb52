-- Databases synced before synced_from existed: their history starts at their oldest fact.
UPDATE "sync_state" SET "synced_from" = first_day.day
FROM (SELECT "facet", min("usage_date") AS day FROM "cost_facts" GROUP BY "facet") AS first_day
WHERE first_day."facet" = "sync_state"."facet" AND "sync_state"."synced_from" IS NULL;
