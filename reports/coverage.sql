-- Coverage: per content and block (0-based), the learners counted who watched it. Blocks no one
-- watched are left out. As `coverage` in GET /v1/analytics/contents/{media_content_key}.
-- Result: media_content_key, block, learners
SELECT c.media_content_key, u.block, count(*) AS learners
FROM counted AS c
CROSS JOIN UNNEST(c.watched) AS u(block)
GROUP BY c.media_content_key, u.block
ORDER BY c.media_content_key, u.block
