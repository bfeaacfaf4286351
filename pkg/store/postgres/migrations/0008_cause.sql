-- Whose failure a job that did not complete is: 'function', 'platform',
-- 'interrupted' or 'lost'; '' for a completed job or one not ended.
ALTER TABLE jobs ADD COLUMN cause text NOT NULL DEFAULT '';
UPDATE jobs SET cause = CASE
    WHEN status = 'lost' THEN 'lost'
    WHEN status = 'failed' AND error LIKE 'platform: %' THEN 'platform'
    WHEN status = 'failed' AND error LIKE 'interrupted%' THEN 'interrupted'
    WHEN status IN ('failed', 'timeout') THEN 'function'
    ELSE ''
END;
