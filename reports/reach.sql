-- Reach: per content and block, the learners counted whose furthest watched block is at or past it.
-- As `reach` in GET /v1/analytics/contents/{media_content_key}.
-- Result: media_content_key, block, learners
SELECT c.media_content_key, u.block, count(*) FILTER (WHERE list_max(c.watched) >= u.block) AS learners
FROM counted AS c
CROSS JOIN UNNEST(generate_series(0, c.block_count - 1)) AS u(block)
GROUP BY c.media_content_key, u.block
ORDER BY c.media_content_key, u.block
