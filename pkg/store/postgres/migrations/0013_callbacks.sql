-- An async job's callback and its on-failure destination, as SQLite's 0013.
ALTER TABLE jobs ADD COLUMN callback_url text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN callback_status text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN callback_attempts integer NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN callback_error text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN destination_job text NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN destination_error text NOT NULL DEFAULT '';
