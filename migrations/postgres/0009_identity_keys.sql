-- The identity service's token keys (issue 12): RSA-2048 key pairs that sign the OpenID
-- tokens of GetOpenIdToken, one issuer per deployment (`<public URL>/identity`), so the
-- table has no pool column. The private key is PKCS#8 DER sealed under the master key
-- (`v1:` base64 text); `n` and `e` are the JWK's base64url modulus and exponent. One
-- active key: the unique partial index over a value every active row shares lets exactly
-- one of several nodes inserting the first key at once win. A rotated-out key keeps
-- `retired_at` and stays in the JWKS until `published_until` (its tokens' longest life).
CREATE TABLE identity_keys (
    kid             TEXT COLLATE "C" NOT NULL CONSTRAINT identity_keys_pk PRIMARY KEY,
    private_pkcs8   TEXT NOT NULL,
    n               TEXT NOT NULL,
    e               TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    retired_at      BIGINT,
    published_until BIGINT
);
CREATE UNIQUE INDEX identity_keys_active_uq ON identity_keys ((retired_at IS NULL))
    WHERE retired_at IS NULL;
CREATE INDEX identity_keys_created ON identity_keys (created_at);
