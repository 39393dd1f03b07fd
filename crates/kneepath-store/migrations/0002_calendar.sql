-- Secret calendar feeds: the feed URL holds a random token; the table keeps
-- its SHA-256. One per person; revoking deletes it.
CREATE TABLE calendar_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL
);
