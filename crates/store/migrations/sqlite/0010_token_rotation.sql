-- Token rotation: a rotated token names its successor (replaced_by) and the successor names it
-- (rotated_from), so a listing shows which token replaced which. Both are written in the
-- transaction that issues the successor and shortens the old token's expiry.

ALTER TABLE api_tokens ADD COLUMN rotated_from TEXT;
ALTER TABLE api_tokens ADD COLUMN replaced_by TEXT;
