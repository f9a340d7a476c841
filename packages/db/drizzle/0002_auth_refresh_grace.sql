ALTER TABLE "refresh_tokens" ADD COLUMN "child_sealed" text;--> statement-breakpoint
CREATE INDEX "refresh_tokens_parent_idx" ON "refresh_tokens" USING btree ("parent_id");--> statement-breakpoint
CREATE INDEX "sessions_user_active_idx" ON "sessions" USING btree ("user_id","created_at") WHERE "sessions"."revoked_at" is null;