-- The submission lifecycle, enforced by the database itself: the API (TypeScript) and the grading
-- worker (Python) both write these rows, so the rules must hold whichever program writes.
-- The allowed pairs mirror SUBMISSION_TRANSITIONS in packages/contracts; a test compares them.
CREATE FUNCTION submission_transition_allowed(from_status submission_status, to_status submission_status)
RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
  SELECT (from_status, to_status) IN (
    ('pending'::submission_status, 'processing'::submission_status),
    ('pending', 'review_pending'),
    ('pending', 'failed'),
    ('processing', 'completed'),
    ('processing', 'review_pending'),
    ('processing', 'failed'),
    ('review_pending', 'completed'),
    ('failed', 'pending')
  )
$$;
--> statement-breakpoint
CREATE FUNCTION submissions_guard_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.status IS DISTINCT FROM OLD.status THEN
    IF NOT submission_transition_allowed(OLD.status, NEW.status) THEN
      RAISE EXCEPTION 'a submission cannot go from % to %', OLD.status, NEW.status
        USING ERRCODE = 'check_violation', CONSTRAINT = 'submission_status_transition';
    END IF;
  END IF;
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER submissions_guard_transition BEFORE UPDATE ON submissions
  FOR EACH ROW EXECUTE FUNCTION submissions_guard_transition();
--> statement-breakpoint
-- Who and why come from transaction-local settings (set_config('vstep.actor', ..., true)), so every
-- writer records them without a second statement, and a forgotten one still yields an event.
CREATE FUNCTION submissions_record_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
    INSERT INTO submission_events (submission_id, user_id, from_status, to_status, actor, reason)
    VALUES (
      NEW.id, NEW.user_id,
      CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE OLD.status END,
      NEW.status,
      coalesce(nullif(current_setting('vstep.actor', true), ''), 'system'),
      nullif(current_setting('vstep.reason', true), '')
    );
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER submissions_record_event AFTER INSERT OR UPDATE OF status ON submissions
  FOR EACH ROW EXECUTE FUNCTION submissions_record_event();
--> statement-breakpoint
-- NOTIFY is transactional: listeners hear of an event only once its transaction commits.
CREATE FUNCTION submission_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('submission_events', json_build_object(
    'id', NEW.id,
    'submissionId', NEW.submission_id,
    'userId', NEW.user_id,
    'from', NEW.from_status,
    'to', NEW.to_status,
    'actor', NEW.actor,
    'reason', NEW.reason,
    'at', to_char(NEW.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  )::text);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER submission_events_notify AFTER INSERT ON submission_events
  FOR EACH ROW EXECUTE FUNCTION submission_events_notify();
