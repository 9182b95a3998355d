-- grid: each content's grid (the block count most learners have a session on; a tie goes to the
-- finer grid) and its length (the catalog's duration, else the longest a session on it reported).
CREATE OR REPLACE VIEW grid AS
WITH learners_per_grid AS (
    SELECT media_content_key, block_count, count(DISTINCT client_user_id) AS learners,
           max(duration) AS reported_duration
    FROM session
    GROUP BY media_content_key, block_count
), ranked AS (
    SELECT media_content_key, block_count, reported_duration,
           row_number() OVER (PARTITION BY media_content_key ORDER BY learners DESC, block_count DESC) AS choice
    FROM learners_per_grid
)
SELECT r.media_content_key, r.block_count, coalesce(c.duration, r.reported_duration) AS duration,
       coalesce(c.duration, r.reported_duration) / r.block_count AS block_length
FROM ranked AS r
LEFT JOIN content AS c ON c.media_content_key = r.media_content_key
WHERE r.choice = 1
