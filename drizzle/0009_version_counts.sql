ALTER TABLE "versions" ADD COLUMN "edit_count" bigint;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "length" bigint;