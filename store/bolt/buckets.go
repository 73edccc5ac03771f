package bolt

import (
	bbolt "go.etcd.io/bbolt"

	"portal/store"
)

// The whole bucket tree. Every index is written in the same transaction as
// the record it points at, so a crash leaves either both or neither.
//
//	meta/
//	    schema_version   -> uint64 (big-endian); see migrations.go
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
//	account_users/       (schema 2)
//	    <account id>/    -> one bucket per account: the set of its user ids
//	        <user id>    -> nil
//	partner_clients/     (schema 2)
//	    <partner id>/    -> one bucket per partner account: the client
//	        <account id> -> nil   accounts it manages (Account.Partner)
//	events/              (schema 2)
//	    <user id>/       -> one bucket per user: its security activity
//	        <time, 8 bytes big-endian ns><sequence, 8 bytes> -> Event (JSON)
//	two_step/            (schema 3)
//	    <user id>        -> TwoStepRecord (JSON): the app's secret sealed,
//	                        the last step accepted, recovery code hashes
//	passkeys/            (schema 4)
//	    <credential id>  -> Passkey (JSON)
//	user_passkeys/       (schema 4)
//	    <user id>/       -> one bucket per user: its passkeys' credential ids
//	        <credential id> -> 8 bytes big-endian: the order they were added
//	                        in, for passkeys added in the same instant
//	passkey_handles/     (schema 4)
//	    <user id>        -> the user's WebAuthn user handle (32 bytes)
//	passkey_users/       (schema 4)
//	    <user handle>    -> user id
//
// WebAuthn ceremonies between their begin and finish are not in the file
// at all: see ceremonies.go.
//
// Session ids are random and public (they appear in URLs and HTML); token
// hashes are never rendered. Ownership checks go through user_sessions, so a
// revoke can only reach sessions in the caller's own set; a partner's reach
// goes through partner_clients, checked in the transaction that acts.

var (
	bucketMeta           = []byte("meta")
	bucketAccounts       = []byte("accounts")
	bucketUsers          = []byte("users")
	bucketUsersByEmail   = []byte("users_by_email")
	bucketSessions       = []byte("sessions")
	bucketSessionsByID   = []byte("sessions_by_id")
	bucketUserSessions   = []byte("user_sessions")
	bucketAccountUsers   = []byte("account_users")
	bucketPartnerClients = []byte("partner_clients")
	bucketEvents         = []byte("events")
	bucketTwoStep        = []byte("two_step")
	bucketPasskeys       = []byte("passkeys")
	bucketUserPasskeys   = []byte("user_passkeys")
	bucketPasskeyHandles = []byte("passkey_handles")
	bucketPasskeyUsers   = []byte("passkey_users")
	keySchemaVersion     = []byte("schema_version")
	keyCSRFKey           = []byte("csrf_key")
	topLevelBuckets      = [][]byte{bucketMeta, bucketAccounts, bucketUsers, bucketUsersByEmail, bucketSessions, bucketSessionsByID, bucketUserSessions, bucketAccountUsers, bucketPartnerClients, bucketEvents, bucketTwoStep,
		bucketPasskeys, bucketUserPasskeys, bucketPasskeyHandles, bucketPasskeyUsers}
)

// bucketSince is the schema version that added a top-level bucket: a file
// of an older version, which Open would migrate, may lack it.
func bucketSince(name []byte) uint64 {
	switch string(name) {
	case string(bucketAccountUsers), string(bucketPartnerClients), string(bucketEvents):
		return 2
	case string(bucketTwoStep):
		return 3
	case string(bucketPasskeys), string(bucketUserPasskeys), string(bucketPasskeyHandles), string(bucketPasskeyUsers):
		return 4
	}
	return 1
}

// Accessors, one per bucket, so that the tree above is spelled out here
// and nowhere else. Every top-level bucket exists once Open has returned
// (see migrations.go), so the top-level getters never return nil.

func getMetaBucket(tx *bbolt.Tx) *bbolt.Bucket         { return tx.Bucket(bucketMeta) }
func getAccountsBucket(tx *bbolt.Tx) *bbolt.Bucket     { return tx.Bucket(bucketAccounts) }
func getUsersBucket(tx *bbolt.Tx) *bbolt.Bucket        { return tx.Bucket(bucketUsers) }
func getUsersByEmailBucket(tx *bbolt.Tx) *bbolt.Bucket { return tx.Bucket(bucketUsersByEmail) }
func getSessionsBucket(tx *bbolt.Tx) *bbolt.Bucket     { return tx.Bucket(bucketSessions) }
func getSessionsByIDBucket(tx *bbolt.Tx) *bbolt.Bucket { return tx.Bucket(bucketSessionsByID) }
func getTwoStepBucket(tx *bbolt.Tx) *bbolt.Bucket      { return tx.Bucket(bucketTwoStep) }
func getPasskeysBucket(tx *bbolt.Tx) *bbolt.Bucket     { return tx.Bucket(bucketPasskeys) }
func getHandlesBucket(tx *bbolt.Tx) *bbolt.Bucket      { return tx.Bucket(bucketPasskeyHandles) }
func getHandleUsersBucket(tx *bbolt.Tx) *bbolt.Bucket  { return tx.Bucket(bucketPasskeyUsers) }

// getPasskeySetBucket is the set of userID's credential ids, or nil if the
// user never had a passkey.
func getPasskeySetBucket(tx *bbolt.Tx, userID string) *bbolt.Bucket {
	return tx.Bucket(bucketUserPasskeys).Bucket([]byte(userID))
}

func createPasskeySetBucket(tx *bbolt.Tx, userID string) (*bbolt.Bucket, error) {
	return tx.Bucket(bucketUserPasskeys).CreateBucketIfNotExists([]byte(userID))
}

// getUserSessionsBucket is the bucket of every user's session set.
func getUserSessionsBucket(tx *bbolt.Tx) *bbolt.Bucket { return tx.Bucket(bucketUserSessions) }

// getSessionSetBucket is the set of userID's session ids, or nil if the
// user never had a session.
func getSessionSetBucket(tx *bbolt.Tx, userID string) *bbolt.Bucket {
	return getUserSessionsBucket(tx).Bucket([]byte(userID))
}

// createSessionSetBucket is getSessionSetBucket that creates the set if
// the user has none yet.
func createSessionSetBucket(tx *bbolt.Tx, userID string) (*bbolt.Bucket, error) {
	return getUserSessionsBucket(tx).CreateBucketIfNotExists([]byte(userID))
}

// getAccountUsersBucket is the set of accountID's user ids, or nil if the
// account has none.
func getAccountUsersBucket(tx *bbolt.Tx, accountID string) *bbolt.Bucket {
	return tx.Bucket(bucketAccountUsers).Bucket([]byte(accountID))
}

func createAccountUsersBucket(tx *bbolt.Tx, accountID string) (*bbolt.Bucket, error) {
	return tx.Bucket(bucketAccountUsers).CreateBucketIfNotExists([]byte(accountID))
}

// getPartnerClientsBucket is the set of client account ids partnerID
// manages, or nil if it manages none.
func getPartnerClientsBucket(tx *bbolt.Tx, partnerID string) *bbolt.Bucket {
	return tx.Bucket(bucketPartnerClients).Bucket([]byte(partnerID))
}

func createPartnerClientsBucket(tx *bbolt.Tx, partnerID string) (*bbolt.Bucket, error) {
	return tx.Bucket(bucketPartnerClients).CreateBucketIfNotExists([]byte(partnerID))
}

// sessionHash looks a public session id up in the id index (byID, from
// getSessionsByIDBucket) and returns the key of its record, or false if
// the id is not indexed.
func sessionHash(byID *bbolt.Bucket, id []byte) (store.TokenHash, bool) {
	var h store.TokenHash
	v := byID.Get(id)
	if len(v) != len(h) {
		return h, false
	}
	copy(h[:], v)
	return h, true
}
