"""Ledger schema and migrations. Bump SCHEMA_VERSION and append to MIGRATIONS to change it."""

SCHEMA_VERSION = 3

MIGRATIONS = {
    1: """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

-- every template issued: its spec is the cell map the return is read back through
CREATE TABLE templates (
  template_id TEXT NOT NULL, version TEXT NOT NULL, kind TEXT NOT NULL,
  department TEXT NOT NULL, round TEXT NOT NULL, issued_at TEXT NOT NULL,
  file TEXT NOT NULL, spec TEXT NOT NULL,
  PRIMARY KEY (template_id, version));

-- every file received, accepted or rejected; nothing is ever deleted
CREATE TABLE submissions (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL, template_id TEXT, department TEXT, round TEXT,
  file_name TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
  archive_path TEXT, received_at TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('accepted', 'rejected')),
  superseded_by INTEGER REFERENCES submissions(id),
  late INTEGER NOT NULL DEFAULT 0,
  contact TEXT, signed_off_by TEXT, signed_off_on TEXT,
  n_errors INTEGER NOT NULL DEFAULT 0, n_warnings INTEGER NOT NULL DEFAULT 0);
CREATE INDEX submissions_by_round ON submissions (round, department, kind);
CREATE INDEX submissions_by_sha ON submissions (sha256);

CREATE TABLE issues (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  code TEXT NOT NULL, severity TEXT NOT NULL, sheet TEXT, cell TEXT,
  found TEXT, expected TEXT, message TEXT NOT NULL);
CREATE INDEX issues_by_submission ON issues (submission_id);

CREATE TABLE measure_values (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  measure_id TEXT NOT NULL, org_id TEXT NOT NULL DEFAULT '', period TEXT NOT NULL,
  field TEXT NOT NULL, value REAL, sheet TEXT NOT NULL, cell TEXT NOT NULL);
CREATE INDEX values_by_measure ON measure_values (measure_id, period);
CREATE INDEX values_by_submission ON measure_values (submission_id);

CREATE TABLE ratings (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  priority_id TEXT NOT NULL, round TEXT NOT NULL,
  source TEXT NOT NULL CHECK (source IN ('self', 'unit')),
  dimension TEXT NOT NULL, value TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL);
CREATE INDEX ratings_by_round ON ratings (round, priority_id);

CREATE TABLE texts (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  round TEXT NOT NULL, department TEXT NOT NULL, priority_id TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL, seq INTEGER NOT NULL, text TEXT NOT NULL, extra TEXT NOT NULL DEFAULT '{}',
  sheet TEXT NOT NULL, cell TEXT NOT NULL);
CREATE INDEX texts_by_round ON texts (round, kind);

CREATE TABLE milestone_updates (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  milestone_id TEXT NOT NULL, status TEXT, forecast TEXT, comment TEXT,
  sheet TEXT NOT NULL, cell TEXT NOT NULL);

CREATE TABLE actions (
  id TEXT PRIMARY KEY, description TEXT NOT NULL, owner TEXT NOT NULL,
  department TEXT NOT NULL DEFAULT '', priority_id TEXT NOT NULL DEFAULT '',
  due TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'open', origin TEXT NOT NULL,
  created_at TEXT NOT NULL, updated_at TEXT NOT NULL);

CREATE TABLE action_updates (
  id INTEGER PRIMARY KEY, action_id TEXT NOT NULL REFERENCES actions(id),
  submission_id INTEGER REFERENCES submissions(id), status TEXT NOT NULL,
  note TEXT, at TEXT NOT NULL, sheet TEXT, cell TEXT);

CREATE TABLE meetings (
  id TEXT PRIMARY KEY, taskforce_id TEXT NOT NULL, date TEXT NOT NULL,
  submission_id INTEGER REFERENCES submissions(id), record TEXT NOT NULL);
""",
    2: """
-- foreign templates (a department's own return, read through a datamap)
CREATE TABLE foreign_templates (
  name TEXT PRIMARY KEY, blank_file TEXT NOT NULL, blank_sha256 TEXT NOT NULL,
  datamap_file TEXT NOT NULL, datamap_sha256 TEXT NOT NULL, sheets TEXT NOT NULL,
  labels TEXT NOT NULL, added_at TEXT NOT NULL);

-- every mapped value of a foreign return, typed as the cell held it
CREATE TABLE foreign_values (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  key TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL,
  kind TEXT NOT NULL, text TEXT, number REAL);
CREATE INDEX foreign_values_by_submission ON foreign_values (submission_id);

-- the current submission of a department and round, found without scanning its history
CREATE INDEX submissions_current ON submissions (kind, department, round, status,
                                                 superseded_by);
""",
    3: """
-- the round lifecycle: open (returns come in) -> closed (its papers published); reopened
-- only by the unit, with a reason. Events, never updated: the latest says the state.
CREATE TABLE IF NOT EXISTS round_events (
  id INTEGER PRIMARY KEY, round TEXT NOT NULL,
  event TEXT NOT NULL CHECK (event IN ('closed', 'reopened')),
  reason TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS round_events_by_round ON round_events (round, id);

-- revisions of earlier months, returned in a return's revisions section; kept beside the
-- value first returned, never over it
CREATE TABLE IF NOT EXISTS revisions (
  submission_id INTEGER NOT NULL REFERENCES submissions(id),
  measure_id TEXT NOT NULL, org_id TEXT NOT NULL DEFAULT '', period TEXT NOT NULL,
  value REAL NOT NULL, reason TEXT NOT NULL, sheet TEXT NOT NULL, cell TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS revisions_by_measure ON revisions (measure_id, period);
""",
}
