-- A version's code is one file (tree false) or a canonical tar of a
-- directory (tree true); deps names the dependency environment built for
-- it ('' for none), and build_log is what that build printed (the tail).
ALTER TABLE versions ADD COLUMN tree boolean NOT NULL DEFAULT false;
ALTER TABLE versions ADD COLUMN deps text NOT NULL DEFAULT '';
ALTER TABLE versions ADD COLUMN build_log bytea NOT NULL DEFAULT ''::bytea;
