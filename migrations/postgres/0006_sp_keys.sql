-- Each pool's SAML 2.0 service-provider key pairs (issue 10): an RSA-2048 private key
-- (PKCS#8 DER sealed under the master key, as `v1:` base64 text) and the self-signed
-- certificate that carries its public key in the SP metadata (DER, base64 text). One
-- active key per pool: nodes creating a pool's first key at once race to insert and the
-- index lets exactly one win. A rotated-out key keeps `retired_at` and stays in the
-- metadata until `published_until`. Its own table, not `signing_keys`: the token JWKS is
-- built from that table and must not change.
CREATE TABLE sp_keys (
    kid             TEXT COLLATE "C" NOT NULL CONSTRAINT sp_keys_pk PRIMARY KEY,
    pool_id         TEXT COLLATE "C" NOT NULL REFERENCES pools (id) ON DELETE CASCADE,
    private_pkcs8   TEXT NOT NULL,
    certificate     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT,
    published_until BIGINT
);
CREATE UNIQUE INDEX sp_keys_active_uq ON sp_keys (pool_id) WHERE retired_at IS NULL;
CREATE INDEX sp_keys_pool ON sp_keys (pool_id, created_at);
