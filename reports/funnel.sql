-- Funnel: per content, the learners counted (started), those who watched at least 25, 50, 75 and
-- 90 % of the blocks, and those whose record is complete. As `funnel` in the API.
-- Result: media_content_key, started, reached_25, reached_50, reached_75, reached_90, completed
SELECT media_content_key,
       count(*) AS started,
       count(*) FILTER (WHERE 100 * array_length(watched) >= 25 * block_count) AS reached_25,
       count(*) FILTER (WHERE 100 * array_length(watched) >= 50 * block_count) AS reached_50,
       count(*) FILTER (WHERE 100 * array_length(watched) >= 75 * block_count) AS reached_75,
       count(*) FILTER (WHERE 100 * array_length(watched) >= 90 * block_count) AS reached_90,
       count(*) FILTER (WHERE completed_at IS NOT NULL) AS completed
FROM counted
GROUP BY media_content_key
ORDER BY media_content_key
