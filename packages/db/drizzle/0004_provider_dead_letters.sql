CREATE TABLE "dead_letters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"submission_id" uuid NOT NULL,
	"provider" text NOT NULL,
	"reason" text NOT NULL,
	"attempts" integer NOT NULL,
	"last_error" text DEFAULT '' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"requeued_at" timestamp with time zone,
	"requeued_by" uuid
);
--> statement-breakpoint
ALTER TABLE "grades" ADD COLUMN "origin" text DEFAULT 'provider' NOT NULL;--> statement-breakpoint
ALTER TABLE "grades" ADD COLUMN "answer_sha256" text;--> statement-breakpoint
ALTER TABLE "dead_letters" ADD CONSTRAINT "dead_letters_submission_id_submissions_id_fk" FOREIGN KEY ("submission_id") REFERENCES "public"."submissions"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dead_letters" ADD CONSTRAINT "dead_letters_requeued_by_users_id_fk" FOREIGN KEY ("requeued_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "dead_letters_open_idx" ON "dead_letters" USING btree ("created_at","id") WHERE "dead_letters"."requeued_at" is null;--> statement-breakpoint
CREATE INDEX "dead_letters_submission_idx" ON "dead_letters" USING btree ("submission_id");--> statement-breakpoint
CREATE INDEX "grades_answer_sha256_idx" ON "grades" USING btree ("answer_sha256","rubric_version") WHERE "grades"."answer_sha256" is not null;--> statement-breakpoint
ALTER TABLE "grades" ADD CONSTRAINT "grades_origin_known" CHECK ("grades"."origin" in ('provider', 'fallback', 'reused'));