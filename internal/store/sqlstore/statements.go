package sqlstore

import "strings"

const (
	poolCols = `id, account, region, name, created_ns, version, config`
	// An identity's columns but its ID's key, read with its pool's region
	// and ID (identityKey).
	identityCols = `p.region, p.id, i.authenticated, i.disabled, i.created_ns, i.created_ns + i.modified_after_ns`
	keyCols      = `id, seq, private_key, created_ns, active_ns, retired_ns, expires_ns`
	providerCols = `arn, account, url, config, created_ns`
	samlCols     = `arn, account, name, metadata, valid_until_ns, created_ns`
	sessionCols  = `access_key_id, secret, token_hash, account, role_arn, identity_id, pool_id, tags, created_ns, expires_ns`

	// A listed identity's columns: the list knows its pool.
	listCols = `i.id, i.authenticated, i.disabled, i.created_ns, i.created_ns + i.modified_after_ns`

	// listIdentities' filter when disabled identities are hidden: so are
	// authenticated identities left without a login.
	visibleOnly = ` AND disabled = FALSE AND (authenticated = FALSE OR EXISTS (SELECT 1 FROM logins l WHERE l.identity = i.id))`

	// inRegion keeps the rows (of alias x, with a pool_num) whose pool is
	// of the region given: an identity ID whose prefix is not its pool's
	// region is not that identity's.
	inRegion = ` AND EXISTS (SELECT 1 FROM pools p WHERE p.num = x.pool_num AND p.region = ?)`

	// maxBatch is the most identities whose logins one query reads.
	maxBatch = 64
)

// Statements is every statement of the store in one dialect. The hot
// ones are exported so that an engine can prepare them ahead.
type Statements struct {
	AccessKey, Pool, FindLogin, Identity, IdentityLogins string
	InsertIdentity, UpdateIdentity, InsertLogin          string
	// InsertIdentityLogin writes an identity and its one login in one
	// statement; "" where the dialect cannot (Dialect.WritableWith).
	InsertIdentityLogin string

	listPools, listAllPools, countPools  string
	poolNum                              string
	reset                                []string
	listIdentities, listVisible          string
	loginsOf                             []string // by number of identities, 1..maxBatch
	insertPool, updatePool, poolVer      string
	deletePoolLogins, deletePool         string
	deleteIdentityLogins, deleteIdentity string
	removeLogin, moveLogins              string

	putAccessKey, countAccessKeys          string
	listAccessKeys, deleteAccessKey        string
	touchAccessKey                         string
	signingKeys, putKey, deleteKey         string
	putProvider, getProvider               string
	listProviders, deleteProvider          string
	listAllProviders                       string
	putSAML, getSAML, listSAML             string
	listAllSAML, deleteSAML                string
	putSession, getSession, deleteSessions string
	createMigrations, migrationsAt         string
	recordMigration                        string
}

func newStatements(d *Dialect) Statements {
	s := statements(d)
	if d.WritableWith {
		// InsertIdentity's arguments, then the login's.
		s.InsertIdentityLogin = d.translate(`WITH i AS (INSERT INTO identities (id, pool_num, authenticated, disabled, created_ns, modified_after_ns)
			SELECT ?, num, ?, ?, ?, ? FROM pools WHERE id = ? AND region = ? RETURNING id, pool_num)
		INSERT INTO logins (pool_num, provider, key, identity, developer, linked_ns)
		SELECT pool_num, ?, ?, id, ?, ? FROM i`)
	}
	return s
}

func statements(d *Dialect) Statements {
	t := d.translate
	after := ` AND (created_ns, id) > (?, ?) ORDER BY created_ns, id LIMIT ?`
	s := Statements{
		AccessKey: t(`SELECT id, secret, account, created, last_used FROM access_keys WHERE id = ?`),
		Pool:      t(`SELECT ` + poolCols + ` FROM pools WHERE id = ?`),
		FindLogin: t(`SELECT p.region, l.identity FROM pools p JOIN logins l ON l.pool_num = p.num
			WHERE p.id = ? AND l.provider = ? AND l.key = ?`),
		Identity: t(`SELECT ` + identityCols + ` FROM identities i JOIN pools p ON p.num = i.pool_num WHERE i.id = ?`),
		// In no order: an identity has few logins, sorted in memory
		// (sortLogins), so that the index by identity holds only it.
		IdentityLogins: t(`SELECT provider, key, developer, linked_ns FROM logins WHERE identity = ?`),
		// No row when the pool is missing or the ID's region is not the
		// pool's.
		InsertIdentity: t(`INSERT INTO identities (id, pool_num, authenticated, disabled, created_ns, modified_after_ns)
			SELECT ?, num, ?, ?, ?, ? FROM pools WHERE id = ? AND region = ?`),
		UpdateIdentity: t(`UPDATE identities SET authenticated = ?, disabled = ?, modified_after_ns = ? - created_ns WHERE id = ?` +
			strings.ReplaceAll(inRegion, "x.", "identities.")),
		InsertLogin: t(`INSERT INTO logins (pool_num, provider, key, identity, developer, linked_ns)
			SELECT num, ?, ?, ?, ?, ? FROM pools WHERE id = ?`),

		listPools:    t(`SELECT ` + poolCols + ` FROM pools WHERE account = ? AND region = ?` + after),
		listAllPools: t(`SELECT ` + poolCols + ` FROM pools WHERE TRUE` + after),
		countPools:   t(`SELECT COUNT(*) FROM pools WHERE account = ? AND region = ?`),
		poolNum:      t(`SELECT num, region FROM pools WHERE id = ?`),
		// Children first, so that no cascade walks a large pool.
		reset: []string{t(`DELETE FROM logins`), t(`DELETE FROM identities`), t(`DELETE FROM pools`),
			t(`DELETE FROM oidc_providers`), t(`DELETE FROM saml_providers`), t(`DELETE FROM sessions`)},
		listIdentities: t(`SELECT ` + listCols + ` FROM identities i WHERE pool_num = ?` + after),
		listVisible:    t(`SELECT ` + listCols + ` FROM identities i WHERE pool_num = ?` + visibleOnly + after),

		// A pool's num is one more than the largest in use. Two pools
		// created at once take the same: on SQLite they cannot be (one
		// writer), on PostgreSQL the second waits for the first and fails
		// to serialize, and is run again. Nothing inserted: the ID is
		// taken (ON CONFLICT covers num's uniqueness and id's alike).
		insertPool: t(`INSERT INTO pools (num, ` + poolCols + `)
			SELECT COALESCE(MAX(num), 0) + 1, ?, ?, ?, ?, ?, ?, ? FROM pools WHERE TRUE ON CONFLICT DO NOTHING`),
		updatePool:           t(`UPDATE pools SET name = ?, version = ?, config = ? WHERE id = ? AND version = ?`),
		poolVer:              t(`SELECT version FROM pools WHERE id = ?`),
		deletePoolLogins:     t(`DELETE FROM logins WHERE pool_num = (SELECT num FROM pools WHERE id = ?)`),
		deletePool:           t(`DELETE FROM pools WHERE id = ?`),
		deleteIdentityLogins: t(`DELETE FROM logins WHERE identity = ?` + strings.ReplaceAll(inRegion, "x.", "logins.")),
		deleteIdentity:       t(`DELETE FROM identities WHERE id = ?` + strings.ReplaceAll(inRegion, "x.", "identities.")),
		removeLogin: t(`DELETE FROM logins WHERE identity = ? AND provider = ? AND key = ?` +
			strings.ReplaceAll(inRegion, "x.", "logins.")),
		moveLogins: t(`UPDATE logins SET identity = ? WHERE identity = ?` + strings.ReplaceAll(inRegion, "x.", "logins.")),

		putAccessKey: t(`INSERT INTO access_keys (id, secret, account, created) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account = excluded.account`),
		countAccessKeys: t(`SELECT COUNT(*) FROM access_keys`),
		listAccessKeys:  t(`SELECT id, account, created, last_used FROM access_keys ORDER BY created DESC, id DESC`),
		deleteAccessKey: t(`DELETE FROM access_keys WHERE id = ?`),
		// The guard keeps the later time when two instances (or a late
		// flush) race, without GREATEST/MAX, which the engines spell
		// differently.
		touchAccessKey: t(`UPDATE access_keys SET last_used = ? WHERE id = ? AND last_used < ?`),
		signingKeys:    t(`SELECT ` + keyCols + ` FROM signing_keys ORDER BY seq`),
		putKey: t(`INSERT INTO signing_keys (` + keyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, private_key = excluded.private_key, created_ns = excluded.created_ns,
			active_ns = excluded.active_ns, retired_ns = excluded.retired_ns, expires_ns = excluded.expires_ns`),
		deleteKey: t(`DELETE FROM signing_keys WHERE id = ?`),
		putProvider: t(`INSERT INTO oidc_providers (` + providerCols + `) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (arn) DO UPDATE SET account = excluded.account, url = excluded.url, config = excluded.config`),
		getProvider:      t(`SELECT ` + providerCols + ` FROM oidc_providers WHERE arn = ?`),
		listProviders:    t(`SELECT ` + providerCols + ` FROM oidc_providers WHERE account = ? ORDER BY arn`),
		deleteProvider:   t(`DELETE FROM oidc_providers WHERE arn = ?`),
		listAllProviders: t(`SELECT ` + providerCols + ` FROM oidc_providers ORDER BY arn`),
		putSAML: t(`INSERT INTO saml_providers (` + samlCols + `) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (arn) DO UPDATE SET account = excluded.account, name = excluded.name, metadata = excluded.metadata,
			valid_until_ns = excluded.valid_until_ns`),
		getSAML:        t(`SELECT ` + samlCols + ` FROM saml_providers WHERE arn = ?`),
		listSAML:       t(`SELECT ` + samlCols + ` FROM saml_providers WHERE account = ? ORDER BY arn`),
		listAllSAML:    t(`SELECT ` + samlCols + ` FROM saml_providers ORDER BY arn`),
		deleteSAML:     t(`DELETE FROM saml_providers WHERE arn = ?`),
		putSession:     t(`INSERT INTO sessions (` + sessionCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		getSession:     t(`SELECT ` + sessionCols + ` FROM sessions WHERE access_key_id = ?`),
		deleteSessions: t(`DELETE FROM sessions WHERE expires_ns < ?`),

		createMigrations: t(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_ns BIGINT NOT NULL)`),
		migrationsAt:     t(`SELECT COALESCE(MAX(version), 0) FROM schema_migrations`),
		recordMigration:  t(`INSERT INTO schema_migrations (version, applied_ns) VALUES (?, ?)`),
	}
	// The logins of a page of identities in one query, whatever the
	// engine: IN works in both, where PostgreSQL's = ANY(array) would not.
	s.loginsOf = make([]string, maxBatch+1)
	for n := 1; n <= maxBatch; n++ {
		s.loginsOf[n] = t(`SELECT identity, provider, key, developer, linked_ns FROM logins WHERE identity IN (?` +
			strings.Repeat(`, ?`, n-1) + `)`)
	}
	return s
}
