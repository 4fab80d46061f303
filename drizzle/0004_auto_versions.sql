ALTER TABLE "documents" ADD COLUMN "versioned_order" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "kind" text DEFAULT 'NAMED' NOT NULL;--> statement-breakpoint
ALTER TABLE "versions" ADD COLUMN "author_ids" jsonb DEFAULT '[]'::jsonb NOT NULL;