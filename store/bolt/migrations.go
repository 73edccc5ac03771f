package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// migration brings a database from the schema version before it to
// version. It may assume the file is at version-1, and runs inside Open's
// write transaction, so a failure leaves the file as it was.
type migration struct {
	version uint64
	name    string // what changed, for errors
	migrate func(*bbolt.Tx) error
}

// migrations is every layout portal has written, oldest first. Open runs,
// in one write transaction, each entry newer than the file's
// schema_version, and records the last one's version. A new layout is one
// more entry at the end: SchemaVersion follows the table.
//
// Top-level buckets are declared (topLevelBuckets in buckets.go) rather
// than migrated: Open creates any that the file lacks before the
// migrations run, so a migration only fills or rewrites records.
var migrations = []migration{
	{version: 1, name: "accounts, users and sessions", migrate: func(*bbolt.Tx) error {
		return nil // the first layout is its buckets alone
	}},
	{version: 2, name: "partners manage client accounts; security activity", migrate: indexAccountUsers},
	{version: 3, name: "two-step sign-in", migrate: func(*bbolt.Tx) error {
		return nil // a bucket of its own, and fields older records read as unset
	}},
	{version: 4, name: "passkeys", migrate: func(*bbolt.Tx) error {
		return nil // buckets of their own, and a session field older records read as unset
	}},
}

// indexAccountUsers fills account_users from every user. No account is
// managed by a partner yet, so partner_clients stays empty and every
// account record is kept as it is.
func indexAccountUsers(tx *bbolt.Tx) error {
	users := getUsersBucket(tx)
	return users.ForEach(func(k, _ []byte) error {
		var u store.User
		if err := get(users, k, &u); err != nil {
			return fmt.Errorf("user %s: %w", k, err)
		}
		set, err := createAccountUsersBucket(tx, u.AccountID)
		if err != nil {
			return err
		}
		return set.Put([]byte(u.ID), nil)
	})
}

// SchemaVersion is the layout this binary reads and writes: the last
// migration's version. A database with a newer version is refused rather
// than misread. Never assign it.
var SchemaVersion = migrations[len(migrations)-1].version

// errNewer says the file was written by a newer portal.
type errNewer struct{ version uint64 }

func (e errNewer) Error() string {
	return fmt.Sprintf("schema %d, this binary knows %d", e.version, SchemaVersion)
}

// migrate brings the database in tx to SchemaVersion and reports whether
// it changed anything, so that Open writes nothing to a file that is
// already up to date. It refuses, changing nothing, a file written by a
// newer portal (errNewer) and one that is not a portal database (damage).
func migrate(tx *bbolt.Tx) (changed bool, err error) {
	from, err := schemaVersion(tx)
	if err != nil {
		return false, err
	}
	if from > SchemaVersion {
		return false, errNewer{from}
	}
	if from == 0 {
		// No version: a new file, unless it belongs to another program.
		if name := foreignBucket(tx); name != nil {
			return false, damage{fmt.Errorf("it has a bucket %q that a portal database does not", name)}
		}
	}
	for _, name := range topLevelBuckets {
		if tx.Bucket(name) != nil {
			continue
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return false, fmt.Errorf("create bucket %s: %w", name, err)
		}
		changed = true
	}
	for _, m := range migrations {
		if m.version <= from {
			continue
		}
		if err := m.migrate(tx); err != nil {
			return false, fmt.Errorf("migrate to schema %d (%s): %w", m.version, m.name, err)
		}
	}
	if from == SchemaVersion {
		return changed, nil
	}
	return true, getMetaBucket(tx).Put(keySchemaVersion, binary.BigEndian.AppendUint64(nil, SchemaVersion))
}

// schemaVersion is the version recorded in the file; 0 if there is none.
func schemaVersion(tx *bbolt.Tx) (uint64, error) {
	meta := getMetaBucket(tx)
	if meta == nil {
		return 0, nil
	}
	v := meta.Get(keySchemaVersion)
	switch len(v) {
	case 0:
		return 0, nil
	case 8:
		return binary.BigEndian.Uint64(v), nil
	}
	return 0, damage{errors.New("bad schema version")}
}

// foreignBucket is the name of a top-level bucket that no portal database
// has, or nil if there is none.
func foreignBucket(tx *bbolt.Tx) (found []byte) {
	tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		for _, ours := range topLevelBuckets {
			if string(name) == string(ours) {
				return nil
			}
		}
		found = name
		return errors.New("stop")
	})
	return found
}
