ALTER TABLE "submissions" ADD COLUMN "audio_media_type" text;--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "audio_bytes" integer;--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "audio_seconds" real;--> statement-breakpoint
ALTER TABLE "submissions" ADD COLUMN "transcript" text;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "preparation_seconds" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "tasks" ADD COLUMN "speaking_seconds" integer;