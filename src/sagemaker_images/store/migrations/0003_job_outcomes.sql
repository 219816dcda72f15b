-- A transition completed by hand (the control API's `complete` with a failure) carries the
-- FailureReason its resource is to end with; NULL for every other job.
ALTER TABLE jobs ADD COLUMN fail_reason TEXT;
