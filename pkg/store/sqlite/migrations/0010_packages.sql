-- A version's code is one file (tree = 0) or a canonical tar of a directory
-- (tree = 1); deps names the dependency environment built for it (its key
-- under $FAAS_HOME/envs, '' for none), and build_log is what that build
-- printed (the tail, bounded).
ALTER TABLE versions ADD COLUMN tree INTEGER NOT NULL DEFAULT 0;
ALTER TABLE versions ADD COLUMN deps TEXT NOT NULL DEFAULT '';
ALTER TABLE versions ADD COLUMN build_log BLOB NOT NULL DEFAULT x'';
