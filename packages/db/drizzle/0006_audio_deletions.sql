CREATE TABLE "audio_deletions" (
	"key" text PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
-- Every way a submission goes (its own delete, or the cascade of its user's or task's) queues its
-- recording's storage key for deletion; the API purges the objects (apps/api/src/submissions/audio.ts).
CREATE FUNCTION submissions_queue_audio_deletion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.audio_ref IS NOT NULL THEN
    INSERT INTO audio_deletions (key) VALUES (OLD.audio_ref) ON CONFLICT (key) DO NOTHING;
  END IF;
  RETURN OLD;
END
$$;
--> statement-breakpoint
CREATE TRIGGER submissions_queue_audio_deletion AFTER DELETE ON submissions
  FOR EACH ROW EXECUTE FUNCTION submissions_queue_audio_deletion();
