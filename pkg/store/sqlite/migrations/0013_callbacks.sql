-- An async job's callback: the URL its result is posted to when it ends,
-- and how the delivery went ('' none, pending, delivered, failed, refused),
-- after how many tries, with the last error. destination_job is the job
-- its final failure queued on the function's on-failure destination
-- (destination_error says why none could be): set once.
ALTER TABLE jobs ADD COLUMN callback_url TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN callback_status TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN callback_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN callback_error TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN destination_job TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN destination_error TEXT NOT NULL DEFAULT '';
