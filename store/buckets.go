package store

// The whole bucket tree. Every index is written in the same transaction as
// the record it points at, so a crash leaves either both or neither.
//
//	meta/
//	    schema_version   -> uint64 (big-endian)
//	    csrf_key         -> 32 random bytes, stable across restarts
//	accounts/
//	    <account id>     -> Account (JSON)
//	users/
//	    <user id>        -> User (JSON)
//	users_by_email/
//	    <lower(email)>   -> user id
//	sessions/
//	    <sha256(token)>  -> Session (JSON); the raw token is never stored
//	sessions_by_id/
//	    <session id>     -> sha256(token)   (public id -> record key)
//	user_sessions/
//	    <user id>/       -> one bucket per user: the set of its session ids
//	        <session id> -> nil
//
// Session ids are random and public (they appear in URLs and HTML); token
// hashes are never rendered. Ownership checks go through user_sessions, so a
// revoke can only reach sessions in the caller's own set.

var (
	bucketMeta         = []byte("meta")
	bucketAccounts     = []byte("accounts")
	bucketUsers        = []byte("users")
	bucketUsersByEmail = []byte("users_by_email")
	bucketSessions     = []byte("sessions")
	bucketSessionsByID = []byte("sessions_by_id")
	bucketUserSessions = []byte("user_sessions")
	keySchemaVersion   = []byte("schema_version")
	keyCSRFKey         = []byte("csrf_key")
	topLevelBuckets    = [][]byte{bucketMeta, bucketAccounts, bucketUsers, bucketUsersByEmail, bucketSessions, bucketSessionsByID, bucketUserSessions}
)

// SchemaVersion is the layout this binary reads and writes. A database with
// a newer version is refused rather than misread.
const SchemaVersion = 1
