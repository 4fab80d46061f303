CREATE TABLE "activity_daily" (
	"document_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"day" date NOT NULL,
	"edits" integer NOT NULL,
	"inserted" bigint NOT NULL,
	"deleted" bigint NOT NULL,
	"active_minutes" integer NOT NULL,
	CONSTRAINT "activity_daily_document_id_user_id_day_pk" PRIMARY KEY("document_id","user_id","day")
);
--> statement-breakpoint
CREATE TABLE "analytics_state" (
	"id" integer PRIMARY KEY DEFAULT 1 NOT NULL,
	"rolled_up_to" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "activity_daily" ADD CONSTRAINT "activity_daily_document_id_documents_id_fk" FOREIGN KEY ("document_id") REFERENCES "public"."documents"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "activity_daily" ADD CONSTRAINT "activity_daily_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "activity_daily_user_idx" ON "activity_daily" USING btree ("user_id","day");