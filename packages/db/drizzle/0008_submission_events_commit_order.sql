-- Per-user commit order for submission_events ids (docs/api.md "Event ids and ordering").
-- SSE streams and Last-Event-ID resume treat every id up to the last one delivered as seen. The
-- column default draws the id when the row is inserted, inside the writer's transaction, so two
-- transactions writing events of one user could commit in the opposite order of their ids: the
-- higher id was delivered first and the lower one, committed later, was skipped for good.
-- Here each transaction that writes an event of a user first takes a transaction-scoped advisory
-- lock on that user (held until it commits or rolls back), and only then draws the id. A later
-- writer for the same user waits for the earlier one to end, so its id is higher AND it commits
-- later: for each user (hence each submission), id order is commit order, and when a reader can see
-- an event it can see every lower-id event of that user that will ever exist.
-- The column default still draws a value before this trigger runs (defaults come before BEFORE
-- triggers); it is replaced, which leaves a gap in the ids, as rolled-back transactions already do.
-- Deadlock safety: the lock is the last one a writer takes (owner FOR KEY SHARE -> submission ->
-- review -> this lock, see apps/api/src/submissions/locks.ts); a writer changes one submission, so
-- holds one such lock. The sweeper, the one writer of several users' events in one transaction,
-- serialises with itself (apps/api/src/sweeper/sweeper.ts).
CREATE FUNCTION submission_events_draw_id_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Two-key form: its own key space, apart from the one-bigint advisory locks (migrations,
  -- bootstrap admin). A hash collision between two users only makes them wait for each other.
  PERFORM pg_advisory_xact_lock(hashtext('vstep:submission_events'), hashtext(NEW.user_id::text));
  NEW.id := nextval('submission_events_id_seq');
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER submission_events_draw_id_in_commit_order BEFORE INSERT ON submission_events
  FOR EACH ROW EXECUTE FUNCTION submission_events_draw_id_in_commit_order();
